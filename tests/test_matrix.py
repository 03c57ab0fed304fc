"""Theme matrices, framework quotes, co-occurrence and CMO configurations on small frames
whose expected values are worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from qualcode.analysis.matrix import (
    ELLIPSIS,
    MISSING,
    codebook_table,
    column_sizes,
    cmo_configurations,
    cooccurrence,
    format_quote,
    framework_matrix,
    theme_matrix,
    trim_text,
)
from qualcode.errors import InvalidInput

PARENT_OF = {"integration": None, "co_location": "integration", "team_exclusion": "integration",
             "outcomes": None, "job_start": "outcomes", "wider_benefits": "outcomes"}
SEG_COLS = ["segment_id", "document", "site", "wave", "participant", "role", "seq", "turn_index", "text"]


def _segments(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=SEG_COLS)


def _codings(rows: list[tuple]) -> pd.DataFrame:
    """(segment_id, code, source, decided_by, confidence) rows."""
    return pd.DataFrame(rows, columns=["segment_id", "code", "source", "decided_by", "confidence"])


@pytest.fixture
def corpus() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Site A: a1 and a2 (one participant, two waves) and a3 (nothing coded); site B: b1."""
    segments = _segments([
        (1, "a1.txt", "A", "1", "P1", "es", 0, 1, "We share an office."),
        (2, "a1.txt", "A", "1", "P1", "es", 1, 3, "Integration is good."),
        (3, "a1.txt", "A", "1", "P1", "es", 2, 5, "Three clients got jobs."),
        (4, "a2.txt", "A", "2", "P1", "es", 0, 1, "Still on site."),
        (5, "a3.txt", "A", "1", "P3", "client", 0, 1, "Nothing to say."),
        (6, "b1.txt", "B", "1", "P4", "client", 0, 1, "I feel left out of it, but work helps."),
        (7, "b1.txt", "B", "1", "P4", "ad_staff", 1, 2, "She is in our office."),
    ])
    codings = _codings([
        (1, "co_location", "human", "alice", None),
        (1, "co_location", "rule", None, 0.9),  # the same (segment, code) again: counted once
        (1, "team_exclusion", "human", "alice", None),
        (2, "integration", "human", "alice", None),
        (3, "job_start", "human", "alice", None),
        (4, "co_location", "human", "bob", None),
        (6, "team_exclusion", "rule", None, 0.6),
        (6, "wider_benefits", "human", "alice", None),
        (7, "co_location", "classifier", None, 0.95),
    ])
    return codings, segments


def _cells(frame: pd.DataFrame) -> dict[str, dict[str, object]]:
    return frame.set_index("code").to_dict("index")


def test_segments_measure_rolls_sub_codes_up_once(corpus) -> None:  # noqa: ANN001
    codings, segments = corpus
    top = theme_matrix(codings, segments, PARENT_OF, cols="site", measure="segments")
    assert list(top.columns) == ["code", "A", "B", "Total"]
    assert list(top["code"]) == ["integration", "outcomes"]
    # segment 1 has co_location twice and team_exclusion: integration counts it once
    assert _cells(top) == {"integration": {"A": 3, "B": 2, "Total": 5}, "outcomes": {"A": 1, "B": 1, "Total": 2}}
    every = theme_matrix(codings, segments, PARENT_OF, cols="site", measure="segments", level="all")
    assert list(every["code"]) == list(PARENT_OF)
    assert _cells(every) == {
        "integration": {"A": 3, "B": 2, "Total": 5}, "co_location": {"A": 2, "B": 1, "Total": 3},
        "team_exclusion": {"A": 1, "B": 1, "Total": 2}, "outcomes": {"A": 1, "B": 1, "Total": 2},
        "job_start": {"A": 1, "B": 0, "Total": 1}, "wider_benefits": {"A": 0, "B": 1, "Total": 1},
    }


def test_documents_and_participants_measures(corpus) -> None:  # noqa: ANN001
    codings, segments = corpus
    docs = theme_matrix(codings, segments, PARENT_OF, measure="documents")
    assert _cells(docs) == {"integration": {"A": 2, "B": 1, "Total": 3}, "outcomes": {"A": 1, "B": 1, "Total": 2}}
    people = theme_matrix(codings, segments, PARENT_OF, measure="participants")
    # a1 and a2 are both participant P1
    assert _cells(people) == {"integration": {"A": 1, "B": 1, "Total": 2}, "outcomes": {"A": 1, "B": 1, "Total": 2}}
    # a document without a participant id counts as a participant of its own
    anonymous = segments.assign(participant=None)
    people = theme_matrix(codings, anonymous, PARENT_OF, measure="participants")
    assert _cells(people)["integration"] == {"A": 2, "B": 1, "Total": 3}


def test_share_denominators_include_documents_without_codings(corpus) -> None:  # noqa: ANN001
    codings, segments = corpus
    share = _cells(theme_matrix(codings, segments, PARENT_OF, measure="share"))
    assert share["integration"] == pytest.approx({"A": 2 / 3, "B": 1.0, "Total": 3 / 4})
    assert share["outcomes"] == pytest.approx({"A": 1 / 3, "B": 1.0, "Total": 2 / 4})
    sizes = column_sizes(segments, "site")
    assert sizes.to_dict() == {"A": 3, "B": 1, "Total": 4}
    # a document known only from the documents table (no segments) is in its column too
    documents = pd.DataFrame({"name": ["a1.txt", "c1.txt"], "site": ["A", "C"]})
    share = _cells(theme_matrix(codings, segments, PARENT_OF, measure="share", documents=documents))
    assert share["integration"] == pytest.approx({"A": 2 / 3, "B": 1.0, "C": 0.0, "Total": 3 / 5})


def test_role_columns_use_display_names_and_role_denominators(corpus) -> None:  # noqa: ANN001
    codings, segments = corpus
    seg = theme_matrix(codings, segments, PARENT_OF, cols="role", measure="segments")
    assert list(seg.columns) == ["code", "IPS ES", "Clinical staff", "IPS client", "Total"]
    assert _cells(seg)["integration"] == {"IPS ES": 3, "Clinical staff": 1, "IPS client": 1, "Total": 5}
    share = _cells(theme_matrix(codings, segments, PARENT_OF, cols="role", measure="share"))
    # IPS client speaks in a3 and b1: b1 mentions integration, a3 does not
    assert share["integration"] == pytest.approx({"IPS ES": 1.0, "Clinical staff": 1.0, "IPS client": 0.5,
                                                  "Total": 0.75})
    assert share["outcomes"] == pytest.approx({"IPS ES": 0.5, "Clinical staff": 0.0, "IPS client": 0.5,
                                               "Total": 0.5})


def test_wave_and_attribute_columns(corpus) -> None:  # noqa: ANN001
    codings, segments = corpus
    waves = _cells(theme_matrix(codings, segments, PARENT_OF, cols="wave", measure="documents"))
    assert waves["integration"] == {"1": 2, "2": 1, "Total": 3}
    documents = pd.DataFrame({"document": ["a1.txt", "a2.txt", "a3.txt", "b1.txt", "c1.txt"],
                              "interview_mode": ["teams", "zoom", "teams", "phone", None]})
    modes = theme_matrix(codings, segments, PARENT_OF, cols="interview_mode", measure="share", documents=documents)
    assert list(modes.columns) == ["code", "phone", "teams", "zoom", MISSING, "Total"]
    assert _cells(modes)["integration"] == pytest.approx({"phone": 1.0, "teams": 0.5, "zoom": 1.0, MISSING: 0.0,
                                                          "Total": 3 / 5})
    per_doc = _cells(theme_matrix(codings, segments, PARENT_OF, cols="document", measure="segments"))
    assert per_doc["integration"] == {"a1.txt": 2, "a2.txt": 1, "a3.txt": 0, "b1.txt": 2, "Total": 5}


def test_bad_arguments_are_named(corpus) -> None:  # noqa: ANN001
    codings, segments = corpus
    with pytest.raises(InvalidInput, match="no column 'team'"):
        theme_matrix(codings, segments, PARENT_OF, cols="team")
    with pytest.raises(InvalidInput, match="measure"):
        theme_matrix(codings, segments, PARENT_OF, measure="words")
    with pytest.raises(InvalidInput, match="unknown code 'nope'"):
        theme_matrix(pd.concat([codings, _codings([(1, "nope", "human", "a", None)])]), segments, PARENT_OF)
    with pytest.raises(InvalidInput, match="lack column"):
        theme_matrix(codings.drop(columns="code"), segments, PARENT_OF)
    empty = theme_matrix(pd.DataFrame(), segments, PARENT_OF, measure="share")
    assert _cells(empty)["integration"] == {"A": 0.0, "B": 0.0, "Total": 0.0}


def test_trim_text_cuts_on_a_word_boundary() -> None:
    text = "We meet every Tuesday, and the team asks me about clients all the time."
    cut = trim_text(text, 30)
    assert cut == "We meet every Tuesday, and" + ELLIPSIS
    assert len(cut) <= 30 and text.startswith(cut[:-1])
    assert trim_text("  short\n text ", 30) == "short text"
    assert trim_text("x" * 50, 20) == "x" * 19 + ELLIPSIS
    with pytest.raises(InvalidInput):
        trim_text(text, 3)


def test_format_quote_uses_a_persons_span_and_role_display() -> None:
    row = {"text": "I sit with the team. It helps.", "start": 100, "start_char": 100, "end_char": 120,
           "source": "human", "role": "ad_staff", "site": "Bradford"}
    assert format_quote(row, 300) == '"I sit with the team." (Clinical staff, Bradford)'
    machine = dict(row, source="rule")  # a rule's span is only the matched phrase: quote the turn
    assert format_quote(machine, 300) == '"I sit with the team. It helps." (Clinical staff, Bradford)'
    assert format_quote(dict(row, site=None, source="rule"), 300).endswith("(Clinical staff)")


def test_framework_quotes_rank_people_then_confidence_and_spread_documents() -> None:
    long_text = "The employment specialist is on site with us three days every week and we talk all the time"
    segments = _segments([
        (1, "d1.txt", "Berkshire", "1", "P1", "es", 0, 1, long_text),
        (2, "d1.txt", "Berkshire", "1", "P1", "es", 1, 3, "Second quote, same interview."),
        (3, "d2.txt", "Berkshire", "1", "P2", "client", 0, 1, "Client view."),
        (4, "d3.txt", "Bradford", "1", "P3", "ad_staff", 0, 1, "Nurse view."),
    ])
    codings = _codings([
        (1, "co_location", "rule", None, 0.9),
        (2, "team_exclusion", "human", "alice", None),
        (3, "co_location", "classifier", None, 0.95),
        (4, "integration", "human", "bob", None),
    ])
    two = _cells(framework_matrix(codings, segments, PARENT_OF, quotes=2, max_chars=40))
    assert two["integration"]["Berkshire"] == ('"Second quote, same interview." (IPS ES, Berkshire)\n\n'
                                               '"Client view." (IPS client, Berkshire)')
    assert two["integration"]["Bradford"] == '"Nurse view." (Clinical staff, Bradford)'
    assert two["integration"]["Total"] == ('"Second quote, same interview." (IPS ES, Berkshire)\n\n'
                                           '"Nurse view." (Clinical staff, Bradford)')
    assert two["outcomes"] == {"Berkshire": "", "Bradford": "", "Total": ""}
    three = _cells(framework_matrix(codings, segments, PARENT_OF, quotes=3, max_chars=40))
    third = three["integration"]["Berkshire"].split("\n\n")[2]
    assert third == f'"The employment specialist is on site{ELLIPSIS}" (IPS ES, Berkshire)'
    by_role = framework_matrix(codings, segments, PARENT_OF, cols="role", quotes=1, level="all")
    assert list(by_role.columns) == ["code", "IPS ES", "Clinical staff", "IPS client", "Total"]
    assert _cells(by_role)["co_location"]["IPS ES"].startswith('"The employment specialist')


def test_cooccurrence_in_segments_and_turn_windows() -> None:
    # d1: interviewer turns 1, 3, 5 are not in the segments, so turns 0, 2, 4, 6 are neighbours
    segments = _segments([
        (1, "d1.txt", "A", "1", "P1", "es", 0, 0, "a"),
        (2, "d1.txt", "A", "1", "P1", "es", 1, 2, "b"),
        (3, "d1.txt", "A", "1", "P1", "es", 2, 4, "c"),
        (4, "d1.txt", "A", "1", "P1", "es", 3, 6, "d"),
        (5, "d2.txt", "A", "1", "P2", "client", 0, 0, "e"),
    ])
    codings = _codings([
        (1, "co_location", "human", "a", None),
        (2, "job_start", "human", "a", None),
        (4, "team_exclusion", "human", "a", None),
        (4, "job_start", "human", "a", None),
        (5, "co_location", "human", "a", None),
        (5, "wider_benefits", "human", "a", None),
    ])
    plain = cooccurrence(codings, segments, PARENT_OF).set_index("code")
    assert plain.loc["integration", "outcomes"] == plain.loc["outcomes", "integration"] == 2
    assert (plain.loc["integration", "integration"], plain.loc["outcomes", "outcomes"]) == (3, 3)
    # window 1: d1 turns 0, 2 and 6 (coded with either) each see both codes; d2 turn 0 too
    windowed = cooccurrence(codings, segments, PARENT_OF, window=1).set_index("code")
    assert windowed.loc["integration", "outcomes"] == 4
    assert windowed.loc["integration", "integration"] == 3
    every = cooccurrence(codings, segments, PARENT_OF, level="all").set_index("code")
    assert every.loc["co_location", "wider_benefits"] == 1
    assert every.loc["team_exclusion", "job_start"] == 1
    assert every.loc["integration", "co_location"] == 2
    assert every.loc["co_location", "team_exclusion"] == 0
    assert list(every.columns) == list(PARENT_OF)
    with pytest.raises(InvalidInput):
        cooccurrence(codings, segments, PARENT_OF, window=-1)


def test_cmo_configurations_per_site(tiny_codebook) -> None:  # noqa: ANN001
    info = codebook_table(tiny_codebook)
    assert dict(zip(info["code"], info["realist_role"]))["team_exclusion"] == "mechanism"
    segments = _segments([
        (1, "d1.txt", "A", "1", "P1", "es", 0, 1, "On site."),
        (2, "d1.txt", "A", "1", "P1", "es", 1, 2, "Left out."),
        (3, "d1.txt", "A", "1", "P1", "es", 2, 3, "Got a job."),
        (4, "d2.txt", "A", "1", "P2", "ad_staff", 0, 1, "Same office."),
        (5, "d2.txt", "A", "1", "P2", "ad_staff", 1, 2, "Not invited."),
        (6, "d2.txt", "A", "1", "P2", "ad_staff", 2, 3, "Started work, more routine."),
        (7, "d0.txt", "A", "1", "P3", "es", 0, 1, "On site, got a job."),
        (8, "d4.txt", "B", "1", "P4", "es", 0, 1, "In the hub but not invited."),
        (9, "d4.txt", "B", "1", "P4", "es", 1, 2, "A routine."),
    ])
    codings = _codings([
        (1, "co_location", "human", "a", None), (2, "team_exclusion", "human", "a", None),
        (3, "job_start", "human", "a", None), (4, "co_location", "human", "a", None),
        (5, "team_exclusion", "human", "a", None), (6, "job_start", "human", "a", None),
        (6, "wider_benefits", "human", "a", None), (7, "co_location", "human", "a", None),
        (7, "job_start", "human", "a", None), (8, "co_location", "human", "a", None),
        (8, "team_exclusion", "human", "a", None), (9, "wider_benefits", "human", "a", None),
    ])
    cmo = cmo_configurations(codings, segments, info, quotes=1)
    assert list(cmo.columns) == ["site", "context", "mechanism", "outcome", "interviews", "context_quote",
                                 "mechanism_quote", "outcome_quote"]
    assert [tuple(r) for r in cmo[["site", "context", "mechanism", "outcome", "interviews"]].to_numpy()] == [
        ("A", "co_location", "team_exclusion", "job_start", 2),
        ("A", "co_location", "team_exclusion", "wider_benefits", 1),
        ("B", "co_location", "team_exclusion", "wider_benefits", 1),
    ]
    first = cmo.iloc[0]
    assert first["context_quote"] == '"On site." (IPS ES, A)'  # d0 lacks a mechanism: not a source
    assert first["outcome_quote"] == '"Got a job." (IPS ES, A)'
    assert cmo.iloc[1]["mechanism_quote"] == '"Not invited." (Clinical staff, A)'
    assert len(cmo_configurations(codings, segments, info, min_interviews=2)) == 1
    with pytest.raises(InvalidInput, match="within interviews"):
        cmo_configurations(codings, segments, info, by="role")


# --- the vectorised framework matrix and CMO listing give what the cell-by-cell loops gave ---
def _reference_framework(codings, segments, parent_of, cols, level, quotes, max_chars, code_order=None,  # noqa: ANN001, ANN202
                         documents=None):
    """The framework matrix as first written: pick_quotes once per cell (slow, obviously right)."""
    from qualcode.analysis import matrix as m

    hits = m.rank_codings(m.coded_segments(codings, segments, parent_of, level)).drop_duplicates(["segment_id", "code"])
    docs = m.document_table(segments, documents)
    labels = m._order_labels(set(m._universe(segments, cols, docs)["_col"]), cols)
    codes = m._row_codes(parent_of, level, code_order, list(hits["code"]))
    hits = hits.assign(_col=m._columns_of(hits, cols, docs))
    table = pd.DataFrame("", index=pd.Index(codes, name="code"), columns=[*labels, m.TOTAL], dtype=object)
    for (code, col), cell in hits.groupby(["code", "_col"], sort=False):
        table.loc[code, col] = m.pick_quotes(cell, quotes, max_chars)
    for code, cell in hits.groupby("code", sort=False):
        table.loc[code, m.TOTAL] = m.pick_quotes(cell, quotes, max_chars)
    table.columns.name = None
    return table.reset_index()


def _reference_cmo(codings, segments, info, by, quotes, max_chars, min_interviews, documents=None):  # noqa: ANN001, ANN202
    """CMO configurations as first written: every triple of every interview, quotes per row."""
    from qualcode.analysis import matrix as m

    role_of = {c: r for c, r in zip(info["code"], info["realist_role"]) if r in m.CMO_PARTS}
    position = {c: i for i, c in enumerate(info["code"])}
    hits = m.rank_codings(m.coded_segments(codings, segments, {}, None)).drop_duplicates(["segment_id", "code"])
    docs = m.document_table(segments, documents)
    hits = hits[hits["code"].isin(role_of)].assign(_part=lambda f: f["code"].map(role_of))
    hits = hits.assign(_group=m._columns_of(hits, by, docs))
    columns = [by, *m.CMO_PARTS, "interviews", *(f"{p}_quote" for p in m.CMO_PARTS)]
    found: dict = {}
    for document, part in hits.groupby("document", sort=True):
        group = part["_group"].iloc[0]
        sets = [sorted(set(part.loc[part["_part"] == p, "code"]), key=position.get) for p in m.CMO_PARTS]
        for c in sets[0]:
            for mech in sets[1]:
                for o in sets[2]:
                    found.setdefault((group, c, mech, o), []).append(document)
    rows = []
    for (group, c, mech, o), in_docs in found.items():
        if len(in_docs) < min_interviews:
            continue
        pool = hits[hits["document"].isin(in_docs)]
        row = {by: group, "context": c, "mechanism": mech, "outcome": o, "interviews": len(in_docs)}
        for p, code in zip(m.CMO_PARTS, (c, mech, o)):
            row[f"{p}_quote"] = m.pick_quotes(pool[pool["code"] == code], quotes, max_chars)
        rows.append(row)
    out = pd.DataFrame(rows, columns=columns)
    if out.empty:
        return out
    rank = {g: i for i, g in enumerate(sorted(set(out[by]), key=m.natural_key))}
    keys = pd.DataFrame({"g": out[by].map(rank), "n": -out["interviews"], **{p: out[p].map(position) for p in m.CMO_PARTS}})
    return out.loc[keys.sort_values(["g", "n", *m.CMO_PARTS], kind="mergesort").index].reset_index(drop=True)


def _random_project(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """A few dozen interviews over four sites (one unnamed), codings by people and machines."""
    import random

    rng = random.Random(seed)
    parent_of = {"integration": None, "co_location": "integration", "team_exclusion": "integration",
                 "meetings": "integration", "outcomes": None, "job_start": "outcomes", "wider_benefits": "outcomes",
                 "other": None}
    roles = {"integration": "context", "co_location": "context", "team_exclusion": "mechanism",
             "meetings": "mechanism", "outcomes": "outcome", "job_start": "outcome", "wider_benefits": "outcome",
             "other": None}
    info = pd.DataFrame({"code": list(parent_of), "realist_role": [roles[c] for c in parent_of]})
    seg_rows, coding_rows, sid = [], [], 0
    for d in range(rng.randint(12, 30)):
        site = rng.choice(["Luton", "Bexley", "Wave 10", "Wave 2", None])
        for seq in range(rng.randint(1, 8)):
            sid += 1
            words = " ".join(rng.choice(["we", "share", "an", "office", "and", "job", "started", "team"])
                             for _ in range(rng.randint(2, 30)))
            seg_rows.append((sid, f"d{d:02d}.txt", site, str(rng.randint(1, 2)), f"P{d % 9}",
                             rng.choice(["es", "client", "ad_staff"]), seq, 2 * seq + 1, words))
            for _ in range(rng.choice([0, 1, 1, 2, 3])):
                source = rng.choice(["human", "rule", "classifier"])
                coding_rows.append((sid, rng.choice(list(parent_of)), source,
                                    rng.choice([None, "alice"]) if source != "human" else "bob",
                                    rng.choice([None, 0.3, 0.7, 0.9])))
    return _codings(coding_rows), _segments(seg_rows), info, parent_of


@pytest.mark.parametrize("seed", range(4))
def test_vectorised_framework_and_cmo_match_the_cell_by_cell_versions(seed: int) -> None:
    codings, segments, info, parent_of = _random_project(seed)
    for cols, level, quotes in (("site", "top", 1), ("site", "all", 2), ("role", "all", 3), ("wave", "top", 2)):
        new = framework_matrix(codings, segments, parent_of, cols=cols, level=level, quotes=quotes, max_chars=30)
        ref = _reference_framework(codings, segments, parent_of, cols, level, quotes, 30)
        pd.testing.assert_frame_equal(new, ref)
    for quotes, min_interviews in ((2, 1), (1, 2), (0, 1), (3, 3)):
        new = cmo_configurations(codings, segments, info, quotes=quotes, max_chars=40, min_interviews=min_interviews)
        ref = _reference_cmo(codings, segments, info, "site", quotes, 40, min_interviews)
        pd.testing.assert_frame_equal(new, ref, check_dtype=False)
        top = cmo_configurations(codings, segments, info, quotes=quotes, max_chars=40, min_interviews=min_interviews,
                                 top=2)
        expected = ref.groupby("site", sort=False).head(2).reset_index(drop=True)
        pd.testing.assert_frame_equal(top, expected, check_dtype=False)
    assert len(cmo_configurations(codings, segments, info, quotes=1)) > 0
