"""Theme matrices: codes by site, role, wave or any document attribute, as counts, shares
or exemplar quotes; code co-occurrence; candidate CMO configurations.

Every function is pure: pandas in, DataFrame out. Conventions shared by all of them:

* ``codings``: one row per coding (as :func:`qualcode.store.codings.coding_rows` gives,
  already filtered by status) with at least ``segment_id`` and ``code``; optional
  ``source``, ``decided_by``, ``confidence``, ``start_char``, ``end_char`` rank quotes.
  Other columns (document, site, role, text) are ignored: they come from ``segments``.
* ``segments``: the corpus (:meth:`Store.segment_rows`): ``segment_id``, ``document``,
  ``role`` and, where used, ``site``, ``wave``, ``participant``, ``text``, ``seq``,
  ``turn_index``, ``start``. A coding on a segment that is not in ``segments`` (an
  interviewer turn, say) is left out.
* ``parent_of``: code -> parent (None at the top), e.g. ``{c.id: c.parent for c in
  codebook.walk()}``; its key order is the default row order (codebook order).
* Roll-up: a coding on a sub-code counts for its ancestors. ``level="top"`` gives the
  top-level themes only; ``"all"`` every code, each counting its own codings and those of
  the codes below it. A (segment, code) pair counts once however many coders or sources
  coded it.
* Quotes are attributed by role and site, ``"..." (IPS ES, Berkshire)``, never by a
  speaker's name or label, and trimmed on a word boundary with an ellipsis.

Quotes for many cells are picked in one sort (:func:`pick_by`, the rule of
:func:`pick_quotes` applied to every group at once), and CMO configurations are counted
with integer joins, quotes being picked for the rows kept only: on 250 interviews with
50 codings each this takes seconds where a loop over cells and configurations took minutes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from qualcode.errors import InvalidInput
from qualcode.ingest.roles import ROLE_DISPLAY

MEASURES = ("segments", "documents", "participants", "share")
LEVELS = ("top", "all")
TOTAL = "Total"
MISSING = "(missing)"
ELLIPSIS = "…"
QUOTE_SEPARATOR = "\n\n"
#: Document-level fields that segment rows carry themselves.
DOCUMENT_FIELDS = ("site", "wave", "participant")
_CODING_FIELDS = ("coding_id", "source", "decided_by", "confidence", "start_char", "end_char")
_TRIM_CHARS = " ,;:.-–—"


# --- input checks and small helpers -------------------------------------------------------
def require_columns(df: Any, required: Sequence[str], what: str) -> pd.DataFrame:
    """The frame, checked for the columns it needs (an empty frame without columns is fine)."""
    if not isinstance(df, pd.DataFrame):
        raise InvalidInput(f"{what} must be a pandas DataFrame, not {type(df).__name__}")
    if df.empty and not len(df.columns):
        return pd.DataFrame(columns=list(required))
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InvalidInput(f"{what} lack column(s) {', '.join(missing)} "
                           f"(columns: {', '.join(map(str, df.columns))})")
    return df


def _check(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise InvalidInput(f"{what} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _blank(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == ""


def value_label(value: object) -> str:
    """A column label for a value: text, whole floats without '.0', MISSING for blanks."""
    if _blank(value):
        return MISSING
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def natural_key(text: str) -> list[Any]:
    """Sort key that puts "wave 2" before "wave 10" and MISSING last."""
    return [text == MISSING, *(int(t) if t.isdigit() else t.casefold() for t in re.split(r"(\d+)", text))]


def role_label(role: object) -> str:
    """The display name of a canonical role ("es" -> "IPS ES")."""
    return MISSING if _blank(role) else ROLE_DISPLAY.get(str(role), str(role))


def _role_order(labels: set[str]) -> list[str]:
    known = [v for v in ROLE_DISPLAY.values() if v in labels]
    return known + sorted(labels - set(known), key=natural_key)


def code_chains(codes: Sequence[str], parent_of: Mapping[str, str | None], level: str) -> dict[str, list[str]]:
    """The codes each code counts for: itself and its ancestors ("all") or its top ("top")."""
    _check(level, LEVELS, "level")
    chains: dict[str, list[str]] = {}
    for code in dict.fromkeys(codes):
        chain = [code]
        while True:
            if chain[-1] not in parent_of:
                where = "" if len(chain) == 1 else f" (an ancestor of {code!r})"
                raise InvalidInput(f"unknown code {chain[-1]!r}{where}: not in the codebook", code=chain[-1])
            parent = parent_of[chain[-1]]
            if parent is None or _blank(parent):
                break
            if parent in chain:
                raise InvalidInput(f"the code hierarchy has a cycle through {parent!r}", code=parent)
            chain.append(parent)
        chains[code] = chain if level == "all" else chain[-1:]
    return chains


def _row_codes(parent_of: Mapping[str, str | None], level: str, code_order: Sequence[str] | None,
               extra: Sequence[str]) -> list[str]:
    """Codes as rows: codebook order, top-level only for level top, then any others coded."""
    order = list(code_order) if code_order is not None else list(parent_of)
    rows = [c for c in order if level == "all" or _blank(parent_of.get(c))]
    seen = set(rows)
    return rows + sorted({c for c in extra if c not in seen})


# --- preparing the coded segments ------------------------------------------------------------
def coded_segments(codings: pd.DataFrame, segments: pd.DataFrame, parent_of: Mapping[str, str | None],
                   level: str | None) -> pd.DataFrame:
    """Codings joined to their segments, one row per code each counts for (see module doc).

    ``level=None`` keeps codes as coded. Adds ``coded`` (the code applied) and keeps one
    row per coding: deduplicate on (segment_id, code) to count.
    """
    codings = require_columns(codings, ["segment_id", "code"], "codings")
    segments = require_columns(segments, ["segment_id", "document", "role"], "segments")
    keep = ["segment_id", "code", *[c for c in _CODING_FIELDS if c in codings.columns]]
    part = codings.loc[:, keep].dropna(subset=["segment_id", "code"])
    seg = segments.drop_duplicates("segment_id")
    joined = part.merge(seg, on="segment_id", how="inner", suffixes=("", "_segment"))
    joined["coded"] = joined["code"]
    if level is not None:
        chains = code_chains(list(joined["code"]), parent_of, level)
        joined = joined.assign(code=joined["code"].map(chains)).explode("code")
    return joined.reset_index(drop=True)


def rank_codings(frame: pd.DataFrame) -> pd.DataFrame:
    """Best evidence first: a person's coding (added or decided) before a machine's, higher
    confidence first (a person's own confidence, 1 when none is given; a machine's score
    for undecided suggestions), then document and turn order (deterministic)."""
    out = frame.copy()
    added = out["source"].astype("string").fillna("").eq("human") if "source" in out else pd.Series(False, index=out.index)
    decided = (out["decided_by"].astype("string").fillna("").ne("") if "decided_by" in out
               else pd.Series(False, index=out.index))
    human = added | decided
    conf = pd.to_numeric(out["confidence"], errors="coerce") if "confidence" in out else pd.Series(np.nan, index=out.index)
    # a person's own confidence counts; a machine's stops counting once a person decided
    own = conf.where(added, np.nan)
    out["_machine"] = (~human).astype(int)
    out["_conf"] = own.fillna(1.0).where(human, conf.fillna(0.0))
    out["_turn"] = out["seq"] if "seq" in out else out["segment_id"]
    out = out.sort_values(["_machine", "_conf", "document", "_turn", "segment_id"],
                          ascending=[True, False, True, True, True], kind="mergesort")
    return out.drop(columns=["_machine", "_conf", "_turn"])


def trim_text(text: object, max_chars: int) -> str:
    """Whitespace collapsed; cut on a word boundary with an ellipsis to at most max_chars."""
    if max_chars < 10:
        raise InvalidInput(f"max_chars must be at least 10, not {max_chars}")
    clean = " ".join(str("" if _blank(text) else text).split())
    if len(clean) <= max_chars:
        return clean
    cut = clean[: max_chars - 1]
    space = cut.rfind(" ")
    if space > 0:
        cut = cut[:space]
    return cut.rstrip(_TRIM_CHARS) + ELLIPSIS


def _quote_text(row: Mapping[str, Any]) -> str:
    """The segment text, or a person's own span inside it when one was marked."""
    text = "" if _blank(row.get("text")) else str(row["text"])
    start, end, seg_start = row.get("start_char"), row.get("end_char"), row.get("start")
    if str(row.get("source")) == "human" and not any(_blank(v) for v in (start, end, seg_start)):
        i, j = int(start) - int(seg_start), int(end) - int(seg_start)
        if 0 <= i < j <= len(text):
            return text[i:j]
    return text


def format_quote(row: Mapping[str, Any], max_chars: int) -> str:
    """``"text" (IPS ES, Berkshire)``: trimmed text attributed by role display and site."""
    where = [role_label(row.get("role"))]
    if not _blank(row.get("site")):
        where.append(str(row["site"]))
    return f'"{trim_text(_quote_text(row), max_chars)}" ({", ".join(where)})'


def pick_quotes(ranked: pd.DataFrame, n: int, max_chars: int) -> str:
    """Up to n quotes from rows ranked best first, one per document before any second."""
    if n <= 0 or ranked.empty:
        return ""
    rows = ranked.drop_duplicates("segment_id")
    order = pd.DataFrame({"doc_rank": rows.groupby("document", sort=False).cumcount().to_numpy(),
                          "order": np.arange(len(rows))})
    chosen = rows.iloc[order.sort_values(["doc_rank", "order"], kind="mergesort").index[:n]]
    return QUOTE_SEPARATOR.join(format_quote(r, max_chars) for r in chosen.to_dict("records"))


def _choose_by(ranked: pd.DataFrame, keys: list[str], n: int) -> pd.DataFrame:
    """The rows :func:`pick_quotes` would quote, for every group of ``keys`` at once: within a
    group, rows in ranked order, one per document before a second from any, at most ``n``.
    Groups come out one after another, each in quoting order."""
    rows = ranked.drop_duplicates([*keys, "segment_id"])
    rows = rows.assign(_dr=rows.groupby([*keys, "document"], sort=False).cumcount().to_numpy(),
                       _ro=np.arange(len(rows)))
    chosen = rows.sort_values([*keys, "_dr", "_ro"], kind="mergesort").groupby(keys, sort=False).head(n)
    return chosen.drop(columns=["_dr", "_ro"])


def _join_by(chosen: pd.DataFrame, keys: list[str], texts: Sequence[str]) -> pd.Series:
    """Quotes of the chosen rows joined per group (a Series indexed by the keys)."""
    index = pd.MultiIndex.from_frame(chosen[keys]) if len(keys) > 1 else pd.Index(chosen[keys[0]])
    quoted = pd.Series(list(texts), index=index, dtype=object)
    return quoted.groupby(level=list(range(len(keys))), sort=False).agg(QUOTE_SEPARATOR.join)


def pick_by(ranked: pd.DataFrame, keys: Sequence[str], n: int, max_chars: int) -> pd.Series:
    """:func:`pick_quotes` for every group of ``keys`` in one pass: the joined quotes of each
    group of rows ranked best first, as a Series indexed by the keys (a MultiIndex for
    several keys); groups without rows are absent."""
    keys = list(keys)
    if n <= 0 or ranked.empty:
        return pd.Series(dtype=object)
    chosen = _choose_by(ranked, keys, n)
    return _join_by(chosen, keys, [format_quote(r, max_chars) for r in chosen.to_dict("records")])


# --- documents and columns -------------------------------------------------------------------
def document_table(segments: pd.DataFrame, documents: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per document (index ``document``): site, wave, participant from the segments,
    filled in and extended by ``documents`` (``document`` or ``name`` column, attributes as
    columns), whose documents without segments are kept too."""
    segments = require_columns(segments, ["segment_id", "document", "role"], "segments")
    fields = [c for c in DOCUMENT_FIELDS if c in segments.columns]
    base = segments.drop_duplicates("document").loc[:, ["document", *fields]].set_index("document")
    if documents is not None:
        docs = documents
        if isinstance(docs, pd.DataFrame) and "document" not in docs.columns and "name" in docs.columns:
            docs = docs.rename(columns={"name": "document"})
        docs = require_columns(docs, ["document"], "documents").drop_duplicates("document").set_index("document")
        base = base.combine_first(docs)
    base["document"] = base.index
    return base


def _columns_of(frame: pd.DataFrame, cols: str, docs: pd.DataFrame) -> pd.Series:
    """The column label of each row of a frame with ``document`` and ``role``."""
    if cols == "role":
        return frame["role"].map(role_label)
    return frame["document"].map(docs[cols].map(value_label)).fillna(MISSING)


def _universe(segments: pd.DataFrame, cols: str, docs: pd.DataFrame) -> pd.DataFrame:
    """Every (document, column label) pair: the documents in each column."""
    if cols == "role":
        pairs = segments.loc[:, ["document"]].assign(_col=_columns_of(segments, cols, docs))
    else:
        if cols not in docs.columns:
            available = sorted({"role", *docs.columns})
            raise InvalidInput(f"no column {cols!r} to group by; use one of {', '.join(available)}")
        pairs = pd.DataFrame({"document": docs.index.to_numpy(), "_col": docs[cols].map(value_label).to_numpy()})
    return pairs.drop_duplicates().reset_index(drop=True)


def _order_labels(labels: set[str], cols: str) -> list[str]:
    return _role_order(labels) if cols == "role" else sorted(labels, key=natural_key)


def column_sizes(segments: pd.DataFrame, cols: str = "site", documents: pd.DataFrame | None = None) -> pd.Series:
    """Documents in each column and in all (``Total``): the denominators of the share measure."""
    docs = document_table(segments, documents)
    pairs = _universe(segments, cols, docs)
    labels = _order_labels(set(pairs["_col"]), cols)
    sizes = pairs.groupby("_col")["document"].nunique().reindex(labels, fill_value=0)
    sizes[TOTAL] = len(docs)
    sizes.index.name = cols
    return sizes.rename("documents").astype(int)


# --- matrices -------------------------------------------------------------------------------
def theme_matrix(
    codings: pd.DataFrame,
    segments: pd.DataFrame,
    parent_of: Mapping[str, str | None],
    rows: str = "codes",
    cols: str = "site",
    measure: str = "segments",
    level: str = "top",
    code_order: Sequence[str] | None = None,
    documents: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Codes by column: a ``code`` column, one column per value of ``cols``, then ``Total``.

    ``cols``: ``role`` (a segment's speaker role, shown as "IPS ES", ...), or a document
    field: ``site``, ``wave``, ``document``, ``participant`` or any attribute column of
    ``documents``. ``measure``:

    * ``segments``: coded segments;
    * ``documents``: distinct documents (interviews) with the code;
    * ``participants``: distinct participants (a document without one counts as its own);
    * ``share``: documents with the code / documents in the column (0..1). Every document
      in the column is in the denominator, coded or not; for ``role`` a document is in a
      column when it has a segment by that role. ``Total`` divides by every document.

    Rows are every code at the level in codebook order, zeros included.
    """
    _check(rows, ("codes",), "rows")
    _check(measure, MEASURES, "measure")
    hits = coded_segments(codings, segments, parent_of, level).drop_duplicates(["segment_id", "code"])
    docs = document_table(segments, documents)
    pairs = _universe(segments, cols, docs)
    labels = _order_labels(set(pairs["_col"]), cols)
    codes = _row_codes(parent_of, level, code_order, list(hits["code"]))
    hits = hits.assign(_col=_columns_of(hits, cols, docs))
    if measure == "segments":
        key = "segment_id"
    elif measure == "participants":
        part = hits["document"].map(docs["participant"]) if "participant" in docs else pd.Series(np.nan, index=hits.index)
        hits["_who"] = [f"document {d}" if _blank(p) else str(p) for d, p in zip(hits["document"], part)]
        key = "_who"
    else:
        key = "document"
    table = pd.DataFrame(0, index=pd.Index(codes, name="code"), columns=labels, dtype=int)
    for (code, col), n in hits.groupby(["code", "_col"])[key].nunique().items():
        table.loc[code, col] = int(n)
    total = hits.groupby("code")[key].nunique().reindex(codes, fill_value=0).astype(int)
    if measure == "share":
        sizes = pairs.groupby("_col")["document"].nunique().reindex(labels)
        table = table.div(sizes, axis=1).astype(float)
        total = total / len(docs) if len(docs) else total.astype(float) * np.nan
    table[TOTAL] = total
    table.columns.name = None
    return table.reset_index()


def framework_matrix(
    codings: pd.DataFrame,
    segments: pd.DataFrame,
    parent_of: Mapping[str, str | None],
    cols: str = "site",
    level: str = "top",
    quotes: int = 3,
    max_chars: int = 300,
    code_order: Sequence[str] | None = None,
    documents: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The theme matrix with exemplar quotes in each cell (a framework analysis chart).

    Each cell holds up to ``quotes`` quotes separated by a blank line: a person's codings
    before a machine's, higher confidence first, one quote per document before a second
    from the same document, then document and turn order. ``Total`` draws on every column.
    Quotes read ``"text" (IPS ES, Berkshire)``; empty cells are "".
    """
    if quotes < 1:
        raise InvalidInput(f"quotes must be at least 1, not {quotes}")
    trim_text("", max_chars)  # checks max_chars
    hits = rank_codings(coded_segments(codings, segments, parent_of, level)).drop_duplicates(["segment_id", "code"])
    docs = document_table(segments, documents)
    labels = _order_labels(set(_universe(segments, cols, docs)["_col"]), cols)
    codes = _row_codes(parent_of, level, code_order, list(hits["code"]))
    hits = hits.assign(_col=_columns_of(hits, cols, docs))
    values = np.full((len(codes), len(labels) + 1), "", dtype=object)
    cells = pick_by(hits, ["code", "_col"], quotes, max_chars)
    if len(cells):
        filled = cells.unstack("_col").reindex(index=codes, columns=labels)
        values[:, :-1] = filled.to_numpy(dtype=object)
        values[:, -1] = pick_by(hits, ["code"], quotes, max_chars).reindex(codes).to_numpy(dtype=object)
        values[pd.isna(values)] = ""
    table = pd.DataFrame(values, index=pd.Index(codes, name="code"), columns=[*labels, TOTAL], dtype=object)
    return table.reset_index()


def _positions(segments: pd.DataFrame) -> pd.Series:
    """Turn position of each segment within its document (0, 1, ...), counting only the
    turns present in ``segments``: by turn_index, else seq, else segment_id."""
    key = next((c for c in ("turn_index", "seq") if c in segments and segments[c].notna().all()), "segment_id")
    return segments.groupby("document")[key].rank(method="dense").astype(int) - 1


def cooccurrence(
    codings: pd.DataFrame,
    segments: pd.DataFrame,
    parent_of: Mapping[str, str | None],
    level: str = "top",
    window: int = 0,
    code_order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Square code x code counts (a ``code`` column, then one column per code).

    ``window=0``: segments coded with both codes. ``window=N``: for codes A and B, the
    turns coded A or B whose window of N turns either side (same document) holds both
    codes; a turn holding both counts once, so a pair in two neighbouring turns counts 2.
    Turns are counted among ``segments`` (interviewer turns, left out of them, are not
    turns here), ordered by turn_index, else seq. The diagonal is always the number of
    segments with the code.
    """
    if window < 0:
        raise InvalidInput(f"window must be 0 or more turns, not {window}")
    hits = coded_segments(codings, segments, parent_of, level).drop_duplicates(["segment_id", "code"])
    codes = _row_codes(parent_of, level, code_order, list(hits["code"]))
    index = {c: i for i, c in enumerate(codes)}
    counts = np.zeros((len(codes), len(codes)), dtype=int)
    if window == 0:
        hits = hits.assign(_doc="", _pos=hits["segment_id"].astype("category").cat.codes)
        length = {"": int(hits["_pos"].max()) + 1 if len(hits) else 0}
    else:
        seg = require_columns(segments, ["segment_id", "document"], "segments").drop_duplicates("segment_id")
        pos = pd.Series(_positions(seg).to_numpy(), index=seg["segment_id"].to_numpy())
        hits = hits.assign(_doc=hits["document"], _pos=hits["segment_id"].map(pos))
        length = (seg.assign(_pos=_positions(seg)).groupby("document")["_pos"].max() + 1).to_dict()
    for doc, part in hits.groupby("_doc", sort=False):
        n = int(length[doc])
        present = np.zeros((n, len(codes)), dtype=int)
        present[part["_pos"].to_numpy(dtype=int), part["code"].map(index).to_numpy(dtype=int)] = 1
        if window:
            cum = np.vstack([np.zeros((1, len(codes)), dtype=int), present.cumsum(axis=0)])
            turns = np.arange(n)
            near = (cum[np.minimum(n, turns + window + 1)] - cum[np.maximum(0, turns - window)] > 0).astype(int)
            counts += present.T @ near + near.T @ present - present.T @ present
        else:
            counts += present.T @ present
    diagonal = hits.groupby("code")["segment_id"].nunique().reindex(codes, fill_value=0)
    np.fill_diagonal(counts, diagonal.to_numpy(dtype=int))
    out = pd.DataFrame(counts, index=pd.Index(codes, name="code"), columns=codes)
    return out.reset_index()


# --- realist configurations --------------------------------------------------------------------
def codebook_table(codebook: Any) -> pd.DataFrame:
    """One row per code in codebook order: code, name, parent, top, depth, realist_role,
    direction (the ``codebook_info`` the CMO and rating functions take)."""
    rows = [{"code": c.id, "name": c.name, "parent": c.parent, "top": codebook.top_level(c.id),
             "depth": codebook.depth(c.id), "realist_role": c.realist_role, "direction": c.direction}
            for c in codebook.walk()]
    return pd.DataFrame(rows, columns=["code", "name", "parent", "top", "depth", "realist_role", "direction"])


CMO_PARTS = ("context", "mechanism", "outcome")


def cmo_configurations(
    codings: pd.DataFrame,
    segments: pd.DataFrame,
    codebook_info: pd.DataFrame,
    by: str = "site",
    quotes: int = 2,
    max_chars: int = 300,
    min_interviews: int = 1,
    documents: pd.DataFrame | None = None,
    top: int | None = None,
) -> pd.DataFrame:
    """Candidate context-mechanism-outcome configurations, per site (or other ``by`` field).

    Operationalisation (a heuristic aid for the realist analyst, not a finding): each
    code keeps its own ``realist_role`` from the codebook, as coded (no roll-up; codes
    without a role are left out). An interview (document) supports the configuration
    (C, M, O) when it holds at least one coded segment for a context code C, a mechanism
    code M and an outcome code O, anywhere in the interview and by any speaker. Nothing
    says that C triggered M or that M produced O: the quotes are there so the analyst can
    judge. ``interviews`` counts the supporting interviews in the group; rows with fewer
    than ``min_interviews`` are dropped, and with ``top`` only the first ``top`` rows of
    each group are kept. Each ``*_quote`` holds up to ``quotes`` quotes for that part from
    the supporting interviews (ranked as in :func:`framework_matrix`).

    Columns: ``by``, context, mechanism, outcome, interviews, context_quote,
    mechanism_quote, outcome_quote; sorted by group, most interviews first, then
    codebook order.

    The (C, M, O) triples of each interview are found with integer joins and counted per
    group; quotes are picked for the rows kept only, each distinct quote formatted once.
    """
    info = require_columns(codebook_info, ["code", "realist_role"], "codebook_info")
    if by == "role":
        raise InvalidInput("configurations are found within interviews: group them by a document field "
                           "such as site or wave, not by role")
    if quotes < 0:
        raise InvalidInput(f"quotes must be 0 or more, not {quotes}")
    if top is not None and top < 1:
        raise InvalidInput(f"top must be at least 1, not {top}")
    role_of = {c: r for c, r in zip(info["code"], info["realist_role"]) if r in CMO_PARTS}
    position = {c: i for i, c in enumerate(info["code"])}
    hits = rank_codings(coded_segments(codings, segments, {}, None)).drop_duplicates(["segment_id", "code"])
    docs = document_table(segments, documents)
    _universe(segments, by, docs)  # checks that ``by`` is a document field
    columns = [by, *CMO_PARTS, "interviews", *(f"{p}_quote" for p in CMO_PARTS)]
    hits = hits[hits["code"].isin(role_of)].reset_index(drop=True)
    if hits.empty:
        return pd.DataFrame(columns=columns)
    # integer ids: documents in name order, codes by codebook position, groups in natural order
    doc_names = sorted(set(hits["document"]))
    doc_ids = {d: i for i, d in enumerate(doc_names)}
    doc_groups = list(pd.Series(doc_names).map(docs[by].map(value_label)).fillna(MISSING))
    groups = sorted(set(doc_groups), key=natural_key)
    group_rank = {g: i for i, g in enumerate(groups)}
    doc_group = np.array([group_rank[g] for g in doc_groups], dtype=np.int64)
    present = pd.DataFrame({"doc": hits["document"].map(doc_ids).to_numpy(np.int64),
                            "pos": hits["code"].map(position).to_numpy(np.int64),
                            "part": hits["code"].map(role_of).to_numpy()}).drop_duplicates(["doc", "pos"])
    sides = [present.loc[present["part"] == p, ["doc", "pos"]].rename(columns={"pos": p}) for p in CMO_PARTS]
    triples = sides[0].merge(sides[1], on="doc").merge(sides[2], on="doc")
    if triples.empty:
        return pd.DataFrame(columns=columns)
    triples["g"] = doc_group[triples["doc"].to_numpy()]
    counts = triples.groupby(["g", *CMO_PARTS]).size().rename("interviews").reset_index()
    counts = counts[counts["interviews"] >= min_interviews]
    counts = counts.assign(n=-counts["interviews"]).sort_values(["g", "n", *CMO_PARTS], kind="mergesort")
    if top is not None:
        counts = counts.groupby("g", sort=False).head(top)
    if counts.empty:
        return pd.DataFrame(columns=columns)
    chosen = counts.reset_index(drop=True).assign(cfg=lambda f: np.arange(len(f)))
    code_at = np.array(list(info["code"]), dtype=object)
    out = pd.DataFrame({by: [groups[g] for g in chosen["g"]],
                        **{p: code_at[chosen[p].to_numpy()] for p in CMO_PARTS},
                        "interviews": chosen["interviews"].to_numpy(np.int64)})
    if quotes == 0:
        for p in CMO_PARTS:
            out[f"{p}_quote"] = ""
        return out[columns]
    # quotes: for each kept configuration and part, the part's code in the supporting interviews
    support = triples.merge(chosen[["g", *CMO_PARTS, "cfg"]], on=["g", *CMO_PARTS])
    slim = pd.DataFrame({"doc": hits["document"].map(doc_ids).to_numpy(np.int64),
                         "pos": hits["code"].map(position).to_numpy(np.int64),
                         "segment_id": hits["segment_id"].to_numpy(), "_o": np.arange(len(hits))})
    pools = [support[["cfg", "doc", p]].rename(columns={p: "pos"}).assign(_part=k)
             for k, p in enumerate(CMO_PARTS)]
    pool = pd.concat(pools, ignore_index=True).merge(slim, on=["doc", "pos"])
    pool = pool.rename(columns={"doc": "document"}).sort_values(["cfg", "_part", "_o"], kind="mergesort")
    picked_rows = _choose_by(pool, ["cfg", "_part"], quotes)
    rows = picked_rows["_o"].to_numpy()
    unique = np.unique(rows)
    records = hits.iloc[unique].to_dict("records")
    text_of = dict(zip(unique.tolist(), (format_quote(r, max_chars) for r in records)))
    picked = _join_by(picked_rows, ["cfg", "_part"], [text_of[o] for o in rows.tolist()])
    parts_present = set(picked.index.get_level_values("_part")) if len(picked) else set()
    for k, p in enumerate(CMO_PARTS):
        part = picked.xs(k, level="_part") if k in parts_present else pd.Series(dtype=object)
        out[f"{p}_quote"] = part.reindex(np.arange(len(out))).fillna("").astype(object).to_numpy()
    return out[columns]
