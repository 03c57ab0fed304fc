"""Tests for the codebook model, YAML loading, validation and the default IPS codebook."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.codebook import (
    CANONICAL_ROLES,
    Code,
    Codebook,
    Rule,
    codebook_from_yaml_text,
    codebook_hash,
    codebook_to_yaml,
    compile_rules,
    default_codebook_path,
    lemmatize,
    load_and_validate,
    load_codebook,
    make_nlp,
    validate,
)
from qualcode.errors import InvalidCodebook

FIXTURES = Path(__file__).parent / "fixtures" / "codebooks"

TOP_LEVEL = ["integration", "fidelity", "employer_engagement", "es_qualities",
             "client_experience", "barriers", "outcomes"]
REQUIRED_SUBCODES = {
    "integration": ["co_location", "team_participation", "staff_buy_in", "referral_flow",
                    "referral_gatekeeping", "commissioner_support", "shared_systems",
                    "information_barriers", "team_exclusion", "covid_disruption"],
    "fidelity": ["fidelity_reviews", "spirit_not_letter", "client_choice",
                 "assertive_outreach", "in_work_support", "evidencing_sustainment",
                 "caseload_size", "rapid_job_search", "benefits_counselling",
                 "time_limits_pressure"],
    "employer_engagement": ["three_cups_of_tea", "contact_targets", "remote_engagement",
                            "job_matching", "hidden_job_market", "disclosure",
                            "employer_stigma"],
    "es_qualities": ["people_skills", "flexibility_persistence", "wellbeing_safeguarding",
                     "emotional_burden", "recruitment"],
    "client_experience": ["consistency_of_support", "encouragement_without_pressure",
                          "person_centred", "confidence_wellbeing", "jobcentre_contrast"],
    "barriers": ["criminal_convictions", "housing", "benefits_conditionality",
                 "recovery_fluctuation", "time_out_of_work", "labour_market",
                 "funding_sustainability", "health_stigma"],
    "outcomes": ["job_start", "job_sustained", "wider_benefits"],
}


@pytest.fixture(scope="module")
def default_cb() -> Codebook:
    return load_codebook(default_codebook_path())


@pytest.fixture(scope="module")
def compiled(default_cb: Codebook):
    comp, problems = compile_rules(default_cb)
    assert problems == []
    return comp


def _matches(comp, text: str) -> set[tuple[str, str]]:
    """(code id, rule id) for every rule that fires on the text, as the coder would run it."""
    doc = comp.nlp(text.lower())
    out = set()
    for matcher in (comp.phrase_matcher, comp.lemma_matcher, comp.matcher):
        for match_id, _, _ in matcher(doc):
            rule_id = comp.nlp.vocab.strings[match_id]
            out.add((comp.rules[rule_id][0], rule_id))
    return out


# --- the default codebook ------------------------------------------------------------------

def test_default_codebook_loads_and_validates_with_no_problems(default_cb: Codebook) -> None:
    assert validate(default_cb) == []
    strict = load_and_validate()  # the default path
    assert strict == default_cb
    assert default_cb.name and default_cb.version == 1 and default_cb.description


def test_default_codebook_structure(default_cb: Codebook) -> None:
    assert [c.id for c in default_cb.roots()] == TOP_LEVEL
    for top, subs in REQUIRED_SUBCODES.items():
        children = [c.id for c in default_cb.children(top)]
        assert set(subs) <= set(children), (top, set(subs) - set(children))
    assert 45 <= len(default_cb) <= 65
    # the file is written in tree order, so list order and walk order agree
    assert [c.id for c in default_cb.walk()] == [c.id for c in default_cb.codes]


def test_default_codebook_every_code_is_documented(default_cb: Codebook) -> None:
    for code in default_cb.codes:
        assert code.name and len(code.definition) > 40, code.id
        assert code.example and code.include, code.id
        assert code.realist_role in ("context", "mechanism", "outcome"), code.id
        assert code.rules, code.id
        if code.parent:
            assert len(code.rules) >= 2, code.id
    for sub in default_cb.children("integration"):
        assert sub.direction in ("enabling", "hindering"), sub.id
    assert default_cb.get("time_limits_pressure").direction == "hindering"
    assert default_cb.get("referral_gatekeeping").direction == "hindering"
    assert default_cb.get("co_location").direction == "enabling"


def test_default_codebook_rule_ids_are_prefixed_by_their_code(default_cb: Codebook) -> None:
    for code, rule in default_cb.rules():
        assert rule.id.startswith(code.id + "."), rule.id
        assert set(rule.roles) <= set(CANONICAL_ROLES)
        assert len(rule.kinds()) == 1


def test_default_codebook_lines_point_at_the_code(default_cb: Codebook) -> None:
    lines = default_codebook_path().read_text(encoding="utf-8").splitlines()
    for code in default_cb.codes:
        assert lines[code.line - 1].strip() == f"- id: {code.id}"
        for rule in code.rules:
            assert lines[rule.line - 1].strip() == f"- id: {rule.id}"


def test_lemma_rules_are_written_in_lookup_lemma_form(default_cb: Codebook) -> None:
    """Each lemma phrase, lemmatised like the text, gives back its own words."""
    nlp = make_nlp()
    checked = 0
    for _, rule in default_cb.rules():
        for phrase in rule.lemmas:
            words = [t.text for t in nlp.make_doc(phrase.lower())]
            assert lemmatize(phrase) == words, (rule.id, phrase, lemmatize(phrase))
            checked += 1
        for pattern in rule.patterns:
            for token in pattern:
                value = token.get("LEMMA")
                if value is None:
                    continue
                for lemma in value["IN"] if isinstance(value, dict) else [value]:
                    assert lemmatize(lemma) == [lemma], (rule.id, lemma)
    assert checked > 100


def test_every_lemma_rule_matches_its_own_text(default_cb: Codebook, compiled) -> None:
    nlp = compiled.nlp
    for code, rule in default_cb.rules():
        for phrase in rule.lemmas:
            doc = nlp(phrase.lower())
            ids = {nlp.vocab.strings[m] for m, _, _ in compiled.lemma_matcher(doc)}
            assert rule.id in ids, (rule.id, phrase)
        for phrase in rule.phrases:
            doc = nlp(phrase.lower())
            ids = {nlp.vocab.strings[m] for m, _, _ in compiled.phrase_matcher(doc)}
            assert rule.id in ids, (rule.id, phrase)


@pytest.mark.parametrize(("text", "code"), [
    ("I'm in the office at the treatment centre three days a week.", "co_location"),
    ("We do a three-way meeting with the client and their keyworker.", "team_participation"),
    ("Some keyworkers think clients need to be abstinent first.", "referral_gatekeeping"),
    ("Referrals have really picked up since the training.", "referral_flow"),
    ("I still can't access their system.", "information_barriers"),
    ("Since Covid everyone works from home.", "covid_disruption"),
    ("He went the extra mile for me every single time.", "flexibility_persistence"),
    ("She never judged me, not once.", "people_skills"),
    ("We decided not to disclose his history to the employer.", "disclosure"),
    ("I got a job at the garden centre.", "job_start"),
    ("It gives me a routine and I've cut down my drinking.", "wider_benefits"),
    ("At the jobcentre you're just a number.", "jobcentre_contrast"),
    ("Funding ends in March and nobody knows what happens next.", "funding_sustainability"),
    ("I hadn't worked for eleven years.", "time_out_of_work"),
    ("We carved out a role doing stock in the mornings.", "hidden_job_market"),
    ("She texted me every week without fail.", "consistency_of_support"),
    ("My recovery has its ups and downs.", "recovery_fluctuation"),
])
def test_default_rules_fire_on_typical_sentences(compiled, text: str, code: str) -> None:
    assert code in {c for c, _ in _matches(compiled, text)}


def test_default_rules_stay_quiet_on_interview_small_talk(compiled) -> None:
    for text in ("Thank you for agreeing to take part, can you tell me about your role?",
                 "Okay, and how long have you been with the organisation?",
                 "Is there anything else you'd like to add?"):
        assert _matches(compiled, text) == set(), text


def test_phrase_rules_also_match_curly_apostrophes(compiled) -> None:
    assert ("time_out_of_work", "time_out_of_work.not_worked") in _matches(
        compiled, "I hadn\u2019t worked for years")


# --- tree helpers --------------------------------------------------------------------------

def test_tree_helpers_on_tiny_fixture() -> None:
    cb = load_codebook(FIXTURES / "tiny.yaml")
    assert [c.id for c in cb.roots()] == ["integration", "outcomes"]
    assert [c.id for c in cb.children("integration")] == ["co_location", "team_exclusion"]
    assert cb.ancestors("co_location") == ["integration"]
    assert cb.ancestors("integration") == []
    assert cb.path("job_start") == "outcomes/job_start"
    assert cb.top_level("wider_benefits") == "outcomes"
    assert cb.top_level("outcomes") == "outcomes"
    assert cb.depth("integration") == 0 and cb.depth("team_exclusion") == 1
    assert [c.id for c in cb.descendants("outcomes")] == ["job_start", "wider_benefits"]
    assert [c.id for c in cb] == ["integration", "co_location", "team_exclusion",
                                  "outcomes", "job_start", "wider_benefits"]
    assert cb.by_id["job_start"].name == "Job start"
    assert "job_start" in cb and "disclosure" not in cb and len(cb) == 6
    with pytest.raises(KeyError, match="nope"):
        cb.ancestors("nope")


def test_deep_hierarchy_ancestors_nearest_first_and_walk_uses_position() -> None:
    cb = Codebook(name="deep", codes=[
        Code(id="c", name="C", parent="b", position=3),
        Code(id="a", name="A", position=0),
        Code(id="b2", name="B2", parent="a", position=4),
        Code(id="b", name="B", parent="a", position=1),
        Code(id="d", name="D", parent="c", position=2),
    ])
    assert cb.ancestors("d") == ["c", "b", "a"]
    assert cb.path("d") == "a/b/c/d"
    assert cb.depth("d") == 3
    assert cb.top_level("d") == "a"
    assert [c.id for c in cb.walk()] == ["a", "b", "c", "d", "b2"]
    assert [c.id for c in cb.descendants("b")] == ["c", "d"]


def test_ancestors_stop_at_a_cycle() -> None:
    cb = load_codebook(FIXTURES / "cycle.yaml")
    assert cb.ancestors("alpha") == ["beta"]
    assert [c.id for c in cb.walk()] == ["root"]  # the loop is unreachable from a root


# --- broken fixtures -----------------------------------------------------------------------

@pytest.mark.parametrize(("fixture", "code", "line", "words"), [
    ("duplicate_id.yaml", "co_location", 11, "duplicate code id"),
    ("missing_parent.yaml", "housing", 13, "parent 'barriers' is not a code"),
    ("cycle.yaml", "alpha", 10, "cycle: alpha -> beta -> alpha"),
    ("bad_pattern.yaml", "caseload_size", 17, "pattern 2 does not compile"),
    ("unknown_role.yaml", "consistency_of_support", 14, "'keyworker' is not a canonical role"),
])
def test_broken_fixture_gives_expected_problem(fixture: str, code: str, line: int,
                                               words: str) -> None:
    problems = validate(load_codebook(FIXTURES / fixture))
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.code, problem.line) == (code, line)
    assert words in problem.message
    with pytest.raises(InvalidCodebook) as info:
        load_and_validate(FIXTURES / fixture)
    err = info.value
    assert (err.code, err.line) == (code, line)
    assert err.file == str(FIXTURES / fixture)
    assert f"line {line}" in str(err) and fixture in str(err)


def test_bad_pattern_problem_names_the_token_and_attribute() -> None:
    (problem,) = validate(load_codebook(FIXTURES / "bad_pattern.yaml"))
    assert "caseload_size.count" in problem.message
    assert "token 2 (LOWR)" in problem.message


def test_several_problems_are_all_reported_in_line_order() -> None:
    problems = validate(load_codebook(FIXTURES / "several_problems.yaml"))
    got = [(p.line, p.code) for p in problems]
    assert got == [(8, "barriers"), (10, "Housing-Issues"), (14, "Housing-Issues"),
                   (17, "Housing-Issues"), (19, "Housing-Issues"), (20, "Housing-Issues")]
    text = " | ".join(p.message for p in problems)
    for words in ("realist_role 'cause'", "snake_case", "(has phrases, lemmas)",
                  "duplicate rule id 'housing.both'", "negated_code 'nowhere'", "(has none)"):
        assert words in text
    with pytest.raises(InvalidCodebook, match=r"and 5 more problem"):
        load_and_validate(FIXTURES / "several_problems.yaml")


def test_yaml_syntax_error_names_file_and_line() -> None:
    with pytest.raises(InvalidCodebook) as info:
        load_codebook(FIXTURES / "bad_yaml.yaml")
    assert info.value.line == 8 and info.value.file.endswith("bad_yaml.yaml")


def test_nested_children_layout_is_rejected_with_a_hint() -> None:
    with pytest.raises(InvalidCodebook, match="flat list with parent") as info:
        load_codebook(FIXTURES / "nested_children.yaml")
    assert (info.value.line, info.value.code) == (7, "integration")


@pytest.mark.parametrize(("text", "line", "words"), [
    ("codes: 3\n", 1, "codes: must be a list"),
    ("just text\n", 1, "needs a codes: list"),
    ("codebook: {name: x, version: 0}\ncodes: []\n", 1, "version"),
    ("codebook: {name: x}\ncodes:\n  - id: a\n    name: A\n    colour: red\n", 5, "colour"),
    ("codebook: {name: x}\ncodes:\n  - id: a\n    name: A\n    name: B\n", 5, "given twice"),
    ("codebook: {name: x}\ncodes:\n  - id: a\n    name: A\n    include: {x: 1}\n", 5,
     "include must be a list"),
    ("codebook: {name: x}\ncodes:\n  - id: a\n    name: A\n    rules:\n      - id: a.r\n"
     "        pattern: {LOWER: x}\n", 7, "token pattern must be a list"),
    ("codebook: {name: x}\ncodes:\n  - id: a\n    name: A\n    rules:\n      - id: a.r\n"
     "        phrase: [x]\n", 7, "unknown field(s) phrase"),
    ("codebook: {name: x}\ncodes:\n  - id: a\n    name: A\n    rules:\n      - id: a.r\n"
     "        negatable: maybe\n        phrases: [x]\n", 7, "negatable"),
])
def test_structural_yaml_mistakes_raise_with_line(text: str, line: int, words: str) -> None:
    with pytest.raises(InvalidCodebook) as info:
        codebook_from_yaml_text(text, source="inline.yaml")
    assert info.value.line == line, str(info.value)
    assert words in str(info.value)
    assert info.value.file == "inline.yaml"


def test_missing_id_and_name_are_problems() -> None:
    cb = codebook_from_yaml_text("codebook: {name: x}\ncodes:\n  - name: A\n  - id: b\n")
    problems = validate(cb, compile_patterns=False)
    assert [(p.line, p.message) for p in problems] == [
        (3, "code has no id"), (4, "code has no name")]


def test_missing_codes_file_raises() -> None:
    with pytest.raises(InvalidCodebook, match="cannot read"):
        load_codebook(FIXTURES / "does_not_exist.yaml")


def test_bad_regex_in_pattern_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "regex.yaml"
    path.write_text(
        "codebook: {name: r}\ncodes:\n  - id: a\n    name: A\n    rules:\n"
        "      - id: a.regex\n        pattern: [{TEXT: {REGEX: \"(\"}}]\n", encoding="utf-8")
    (problem,) = validate(load_codebook(path))
    assert (problem.code, problem.line) == ("a", 7)
    assert "a.regex" in problem.message


# --- dump, hash, default path --------------------------------------------------------------

def test_yaml_dump_round_trips(default_cb: Codebook) -> None:
    text = codebook_to_yaml(default_cb)
    again = codebook_from_yaml_text(text, source="dumped.yaml")
    assert again == default_cb
    assert validate(again) == []
    # booleans-looking words stay strings in dumped patterns
    assert "'on'" in text
    assert yaml.safe_load(text)["codebook"]["version"] == 1


def test_hash_is_stable_and_content_sensitive(default_cb: Codebook) -> None:
    again = codebook_from_yaml_text(codebook_to_yaml(default_cb))
    assert codebook_hash(again) == codebook_hash(default_cb)
    assert len(codebook_hash(default_cb)) == 64
    changed = codebook_from_yaml_text(codebook_to_yaml(default_cb))
    changed.codes[3].rules[0].phrases.append("a new phrase")
    assert codebook_hash(changed) != codebook_hash(default_cb)
    bumped = codebook_from_yaml_text(codebook_to_yaml(default_cb))
    bumped.version = 2
    assert codebook_hash(bumped) != codebook_hash(default_cb)


def test_default_codebook_path_is_the_repository_file() -> None:
    path = default_codebook_path()
    assert path.name == "ips_realist.yaml" and path.is_file()


_ident = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


@st.composite
def _codebooks(draw) -> Codebook:
    ids = draw(st.lists(_ident, min_size=1, max_size=8, unique=True))
    codes = []
    for i, cid in enumerate(ids):
        parent = draw(st.sampled_from([None, *ids[:i]]))
        rules = [Rule(id=f"{cid}.r{j}", phrases=draw(st.lists(_text.filter(str.strip),
                                                               min_size=1, max_size=3)),
                      roles=draw(st.lists(st.sampled_from(CANONICAL_ROLES), max_size=2)),
                      negatable=draw(st.booleans()))
                 for j in range(draw(st.integers(0, 2)))]
        codes.append(Code(id=cid, name=draw(_text.filter(str.strip)), parent=parent,
                          definition=draw(_text), include=draw(st.lists(_text, max_size=2)),
                          example=draw(_text),
                          realist_role=draw(st.sampled_from([None, "context", "outcome"])),
                          direction=draw(st.sampled_from([None, "enabling", "hindering"])),
                          rules=rules, position=i))
    return Codebook(name=draw(_text.filter(str.strip)), version=draw(st.integers(1, 9)),
                    description=draw(_text), codes=codes)


@settings(max_examples=60, deadline=None)
@given(_codebooks())
def test_yaml_round_trip_property(cb: Codebook) -> None:
    assert codebook_from_yaml_text(codebook_to_yaml(cb)) == cb
