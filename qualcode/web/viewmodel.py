"""What the document pages show, built from library calls (the store's reads).

Views stay thin: they parse the request, call one function here and render a template.
Nothing here writes and nothing here runs SQL; offsets are code points, as in the store.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from qualcode.codebook import Codebook
from qualcode.coding.evidence import evidence_words
from qualcode.ingest.roles import ROLE_DISPLAY
from qualcode.store.codings import coding_rows, reviewed_segments
from qualcode.store.repo import Store

STATUS_FILTERS = ("open", "reviewed", "untouched")
MACHINE_LABEL = {"rule": "rule", "classifier": "classifier", "human": "you"}


# --- one coder's view of the codings -----------------------------------------------------------
def coder_view(rows: list[dict[str, Any]], coder: str) -> list[dict[str, Any]]:
    """The codings one coder sees, each with a ``state`` (suggested, accepted, rejected).

    A machine suggestion shows this coder's own decision on it when there is one, else it
    is open for them (whatever another coder decided: coders stay independent). Codes the
    coder added show while accepted; other people's additions are not shown.
    """
    chosen: list[tuple[int, dict[str, Any]]] = []
    machine: dict[tuple[int, str, str], list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for i, r in enumerate(rows):
        if r["source"] == "human":
            if r["decided_by"] == coder and r["status"] == "accepted":
                chosen.append((i, {**r, "state": "accepted"}))
        else:
            machine[(r["segment_id"], r["code"], r["source"])].append((i, r))
    for group in machine.values():
        own = next(((i, r) for i, r in group if r["decided_by"] == coder), None)
        if own is not None:
            chosen.append((own[0], {**own[1], "state": own[1]["status"]}))
        else:
            i, base = next(((i, r) for i, r in group if r["decided_by"] is None), group[0])
            chosen.append((i, {**base, "state": "suggested"}))
    chosen.sort(key=lambda pair: pair[0])
    return [r for _, r in chosen]


def why(row: dict[str, Any]) -> str:
    """Provenance in words: the rule and the words it matched, or the classifier's score."""
    prov = row.get("provenance") or {}
    conf = row.get("confidence")
    if row["source"] == "rule":
        text = f"rule {prov.get('rule', '?')}"
        if prov.get("matched"):
            text += f": matched \u201c{prov['matched']}\u201d"
    elif row["source"] == "classifier":
        score = prov.get("score", conf)
        text = f"classifier {prov.get('model', '')}".rstrip()
        if score is not None:
            text += f": score {float(score):.2f}"
        if prov.get("threshold") is not None:
            text += f" (threshold {float(prov['threshold']):.2f})"
        words = evidence_words(prov)
        if words:
            text += " \u00b7 words " + ", ".join(f"\u201c{w}\u201d" for w in words)
        return text
    else:
        text = f"added by {row.get('decided_by') or row.get('coder')}"
    if conf is not None and row["source"] != "human":
        text += f" \u00b7 confidence {float(conf):.2f}"
    return text


# --- documents page ------------------------------------------------------------------------------
@dataclass
class DocumentList:
    rows: list[dict[str, Any]]
    sites: list[str]
    waves: list[str]
    roles: list[tuple[str, str]]  # (role, display)
    total: int
    filters: dict[str, str] = field(default_factory=dict)


def document_list(store: Store, coder: str, *, site: str = "", role: str = "", wave: str = "",
                  status: str = "") -> DocumentList:
    """Documents with segment, open-suggestion and accepted counts for ``coder``, filtered."""
    docs = store.documents()
    roles_in: dict[int, set[str]] = defaultdict(set)
    n_segments: dict[int, int] = defaultdict(int)
    for seg in store.segment_rows(all_roles=True):
        roles_in[seg["document_id"]].add(seg["role"])
        if seg["role"] != "interviewer":
            n_segments[seg["document_id"]] += 1
    by_name = {d["name"]: d["id"] for d in docs}
    open_n: dict[int, int] = defaultdict(int)
    accepted_n: dict[int, int] = defaultdict(int)
    decided_n: dict[int, int] = defaultdict(int)
    for r in coder_view(coding_rows(store, all_roles=True), coder):
        doc_id = by_name.get(r["document"])
        if r["state"] == "suggested":
            open_n[doc_id] += 1
        else:
            decided_n[doc_id] += 1
            accepted_n[doc_id] += r["state"] == "accepted"
    rows = []
    for d in docs:
        i = d["id"]
        state = "untouched" if not decided_n[i] else ("open" if open_n[i] else "reviewed")
        rows.append({**d, "segments": n_segments[i], "open": open_n[i], "accepted": accepted_n[i],
                     "decided": decided_n[i], "status": state,
                     "roles": [ROLE_DISPLAY.get(r, r) for r in ROLE_DISPLAY if r in roles_in[i]]})
    present = set().union(*roles_in.values()) if roles_in else set()
    out = DocumentList(
        rows=[], total=len(rows),
        sites=sorted({d["site"] for d in docs if d["site"]}),
        waves=sorted({str(d["wave"]) for d in docs if d["wave"]}),
        roles=[(r, ROLE_DISPLAY[r]) for r in ROLE_DISPLAY if r in present],
        filters={"site": site, "role": role, "wave": wave, "status": status},
    )
    for row in rows:
        if site and row["site"] != site:
            continue
        if wave and str(row["wave"]) != wave:
            continue
        if role and role not in roles_in[row["id"]]:
            continue
        if status == "open" and not row["open"]:
            continue
        if status == "reviewed" and row["status"] != "reviewed":
            continue
        if status == "untouched" and row["decided"]:
            continue
        out.rows.append(row)
    return out


# --- transcript page -----------------------------------------------------------------------------
def pieces(text: str, seg_start: int, spans: list[tuple[int, int, int]]) -> list[dict[str, Any]]:
    """Cut a segment's text where highlighted spans begin and end.

    ``spans`` are (start, end, coding_id) in document offsets; each piece carries its
    document start and the ids of the codings covering it.
    """
    n = len(text)
    cuts = {0, n}
    local = []
    for start, end, cid in spans:
        a, b = max(0, min(n, start - seg_start)), max(0, min(n, end - seg_start))
        if a < b:
            local.append((a, b, cid))
            cuts.update((a, b))
    bounds = sorted(cuts)
    out = []
    for a, b in zip(bounds, bounds[1:]):
        ids = [cid for s, e, cid in local if s <= a and e >= b]
        out.append({"text": text[a:b], "start": seg_start + a, "ids": ids})
    return out


def turn_label(role: str, tag: str | None) -> str:
    """The role's display name, numbered when the anonymised tag numbers it ("IPS client 2")."""
    display = ROLE_DISPLAY.get(role, ROLE_DISPLAY["unknown"])
    if tag and tag.startswith(display + " ") and tag[len(display) + 1:].isdigit():
        return tag
    return display


def transcript(store: Store, codebook: Codebook, document: dict[str, Any], coder: str) -> dict[str, Any]:
    """A document's turns in order, each with its segments, highlighted pieces and codings.

    A segment is ``reviewed`` when ``coder`` has recorded it as coded (any decision, or
    "nothing to code here"), and ``nothing`` when that left it without a code of theirs.
    """
    names = {c.id: c.name for c in codebook.codes}
    segs = store.segment_rows(all_roles=True, document_ids=[document["id"]])
    shown = coder_view(coding_rows(store, all_roles=True, document_id=document["id"]), coder)
    reviewed = reviewed_segments(store, coder, segment_ids=[s["segment_id"] for s in segs])
    by_segment: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in shown:
        by_segment[r["segment_id"]].append(r)
    turns: list[dict[str, Any]] = []
    counts = {"suggested": 0, "accepted": 0, "rejected": 0}
    for seg in segs:
        seg_codings = []
        spans = []
        for r in by_segment.get(seg["segment_id"], []):
            start, end = r["start_char"], r["end_char"]
            span = (r.get("provenance") or {}).get("span")
            if (start is None or end is None) and isinstance(span, (list, tuple)) and len(span) == 2:
                start, end = span
            whole = start is None or end is None
            start = seg["start"] if whole else max(seg["start"], int(start))
            end = seg["end"] if whole else min(seg["end"], int(end))
            counts[r["state"]] += 1
            seg_codings.append({
                "id": r["coding_id"], "code": r["code"], "name": names.get(r["code"], r["code"]),
                "source": r["source"], "state": r["state"], "why": why(r), "whole": whole,
                "quote": "" if whole else seg["text"][start - seg["start"]:end - seg["start"]],
            })
            spans.append((start, end, r["coding_id"]))
            if r["state"] == "suggested":  # the words a classifier suggestion rests on
                spans += [(e["span"][0], e["span"][1], -r["coding_id"])
                          for e in (r.get("provenance") or {}).get("evidence") or []
                          if isinstance(e, dict) and isinstance(e.get("span"), list) and len(e["span"]) == 2]
        info = {c["id"]: c for c in seg_codings}
        seg_pieces = pieces(seg["text"], seg["start"], spans)
        for p in seg_pieces:
            evidence_for = [info[-i]["name"] for i in p["ids"] if i < 0]
            p["ids"] = [i for i in p["ids"] if i > 0]
            states = {info[i]["state"] for i in p["ids"]}
            if any(info[i]["source"] == "human" for i in p["ids"] if info[i]["state"] == "accepted"):
                states.add("human")
            p["classes"] = " ".join(f"hl-{s}" for s in sorted(states))
            p["title"] = "\n".join(f"{info[i]['name']} ({info[i]['state']}): {info[i]['why']}" for i in p["ids"])
            if evidence_for:
                p["classes"] += " hl-evidence"
                p["title"] += "\nevidence for " + ", ".join(sorted(set(evidence_for)))
        item = {"id": seg["segment_id"], "start": seg["start"], "end": seg["end"], "pieces": seg_pieces,
                "codings": seg_codings, "reviewed": seg["segment_id"] in reviewed,
                "nothing": seg["segment_id"] in reviewed and not any(c["state"] == "accepted" for c in seg_codings)}
        if turns and turns[-1]["turn_index"] == seg["turn_index"]:
            turns[-1]["segments"].append(item)
            continue
        turns.append({
            "turn_index": seg["turn_index"], "role": seg["role"], "label": turn_label(seg["role"], seg["speaker"]),
            "interviewer": seg["role"] == "interviewer", "segments": [item],
        })
    return {"document": document, "turns": turns, "counts": counts}


def code_tree(codebook: Codebook) -> list[dict[str, Any]]:
    """The codebook in tree order, flat, each code with its depth and path (for search)."""
    return [
        {"code": c, "depth": min(codebook.depth(c.id), 5), "path": codebook.path(c.id),
         "search": " ".join([c.id, c.name, c.definition or "", *c.include]).casefold()}
        for c in codebook.walk()
    ]


def find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` first occurs in ``text`` (code points, whitespace-insensitive ends)."""
    quote = quote.strip()
    if not quote:
        return None
    found = re.search(re.escape(quote), text) or re.search(re.escape(quote), text, re.IGNORECASE)
    return None if found is None else (found.start(), found.end())
