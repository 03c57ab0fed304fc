"""Tests for the rule-based coding assistant (qualcode.coding.rules)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.codebook import (
    Codebook,
    codebook_from_yaml_text,
    compile_rules,
    lemmatize,
    load_and_validate,
    load_codebook,
)
from qualcode.coding.base import SegmentInput, Suggestion
from qualcode.coding.rules import RuleAssistant, _lower_keep_length
from qualcode.errors import InvalidCodebook

FIXTURES = Path(__file__).parent / "fixtures" / "codebooks"
PAD = 37  # segments start at this document offset


@pytest.fixture(scope="module")
def tiny() -> RuleAssistant:
    return RuleAssistant(load_and_validate(FIXTURES / "tiny.yaml"))


@pytest.fixture(scope="module")
def default() -> RuleAssistant:
    return RuleAssistant(load_and_validate())


def seg(text: str, role: str = "es", sid: int = 1) -> SegmentInput:
    return SegmentInput(id=sid, text=text, role=role, document="d", start=PAD,
                        end=PAD + len(text))


def doc_text(text: str) -> str:
    return "x" * PAD + text


def suggest(ra: RuleAssistant, text: str, role: str = "es") -> dict[str, Suggestion]:
    out = ra.suggest([seg(text, role)])
    assert len({s.code for s in out}) == len(out)  # one suggestion per (segment, code)
    return {s.code: s for s in out}


def check_span(s: Suggestion, text: str, expected: str) -> None:
    start, end = s.provenance["span"]
    assert doc_text(text)[start:end] == s.provenance["matched"] == expected


# --- the three kinds of rule ----------------------------------------------------------------

def test_phrase_rule_fires_with_document_span_and_original_case(tiny: RuleAssistant) -> None:
    text = "Honestly we share the Same Office now."
    s = suggest(tiny, text)["co_location"]
    check_span(s, text, "Same Office")
    assert s.source == "rule" and s.segment_id == 1
    assert s.provenance["kind"] == "phrase" and s.provenance["rule"] == "co_location.on_site"
    assert s.confidence == pytest.approx(0.8)


def test_lemma_rule_matches_inflections(tiny: RuleAssistant) -> None:
    text = "Last spring she finally Got A Job at the bakery."
    s = suggest(tiny, text, "client")["job_start"]
    check_span(s, text, "Got A Job")
    assert s.provenance["kind"] == "lemma" and s.confidence == pytest.approx(0.7)
    s = suggest(tiny, "I'm Starting Work on Monday.", "client")["job_start"]
    assert s.provenance["matched"] == "Starting Work"
    assert suggest(tiny, "She has a job now.", "client") == {}


def test_single_word_match_has_lower_base_confidence(tiny: RuleAssistant) -> None:
    s = suggest(tiny, "Work gives me a Routine.", "client")["wider_benefits"]
    assert s.confidence == pytest.approx(0.6) and s.provenance["matched"] == "Routine"


def test_token_pattern_fires_with_span(tiny: RuleAssistant) -> None:
    text = "I'm there 3 Days a week in the hub."
    s = suggest(tiny, text, "client")["co_location"]
    check_span(s, text, "3 Days a week in")
    assert s.provenance["kind"] == "pattern" and s.confidence == pytest.approx(0.8)


def test_extra_rules_of_the_same_code_raise_confidence(tiny: RuleAssistant) -> None:
    s = suggest(tiny, "We're on site, two days a week at the hub.")["co_location"]
    assert s.provenance["rules"] == ["co_location.days_a_week", "co_location.on_site"]
    assert s.confidence == pytest.approx(0.9)
    assert s.provenance["rule"] == "co_location.on_site"  # strongest, earliest


# --- role filter --------------------------------------------------------------------------

def test_role_filter(tiny: RuleAssistant) -> None:
    text = "We are in the same office."
    assert "co_location" in suggest(tiny, text, "es")
    assert suggest(tiny, text, "client") == {}
    [entry] = tiny.explain(text, role="client")
    assert entry["filtered"] and entry["dropped"] == "role" and entry["counts_for"] is None


def test_interviewer_turns_and_empty_segments_are_not_coded(tiny: RuleAssistant) -> None:
    segs = [seg("Are you on site?", "interviewer", 1), seg("   ", "es", 2),
            seg("We are on site.", "es", 3)]
    assert [(s.segment_id, s.code) for s in tiny.suggest(segs)] == [(3, "co_location")]


# --- negation -----------------------------------------------------------------------------

def test_negation_drops_a_match_without_negated_code(tiny: RuleAssistant) -> None:
    assert suggest(tiny, "Sadly I never got a job after that.", "client") == {}
    assert suggest(tiny, "I didn't really get a job.", "client") == {}
    assert "job_start" in suggest(tiny, "I got a job.", "client")


def test_negation_redirects_to_negated_code(tiny: RuleAssistant) -> None:
    text = "We're not in the same office any more."
    out = suggest(tiny, text)
    assert set(out) == {"team_exclusion"}
    s = out["team_exclusion"]
    assert s.provenance["negated_from"] == "co_location" and s.provenance["negation"] == "not"
    check_span(s, text, "same office")


def test_negation_is_bounded_by_distance_and_clause(tiny: RuleAssistant) -> None:
    assert "co_location" in suggest(tiny, "No, we are in the same office.")
    assert "co_location" in suggest(tiny, "It's not bad, we're on site.")
    assert "co_location" in suggest(
        tiny, "I never expected the chairs to be this comfy here on site.")
    assert "co_location" in suggest(tiny, "Not only the same office but the same desk.")


def test_phrases_that_look_negative_do_not_negate(tiny: RuleAssistant) -> None:
    assert "co_location" in suggest(tiny, "It doesn't matter that we're on site.")
    assert "co_location" in suggest(tiny, "I'm not sure, but we're in the same office.")
    [entry] = tiny.explain("I don't mind that we're on site.")
    assert entry["negated"] is False and entry["counts_for"] == "co_location"


def test_non_negatable_rule_ignores_negation_and_curly_apostrophes(tiny: RuleAssistant) -> None:
    assert "team_exclusion" in suggest(tiny, "I was never left out.")
    text = "We don\u2019t share the same office."
    s = suggest(tiny, text)["team_exclusion"]
    assert s.provenance["negated_from"] == "co_location"
    check_span(s, text, "same office")


def test_curly_apostrophes_in_phrases_and_spans(default: RuleAssistant) -> None:
    text = "I wasn\u2019t invited, so I don\u2019t go."
    s = suggest(default, text)["team_exclusion"]
    check_span(s, text, "wasn\u2019t invited")


# --- hedging, wishes, questions -------------------------------------------------------------

def test_hedging_lowers_confidence_and_says_so(tiny: RuleAssistant) -> None:
    s = suggest(tiny, "I suppose we are in the same office.")["co_location"]
    assert s.confidence == pytest.approx(0.56)
    assert s.provenance["hedged"] is True and s.provenance["hedge"] == "i suppose"
    s = suggest(tiny, "It's the same office, sort of.")["co_location"]
    assert s.provenance["hedge"] == "sort of" and s.confidence < 0.8
    plain = suggest(tiny, "It is the kind of routine I like.", "client")["wider_benefits"]
    assert plain.provenance["hedged"] is False and plain.confidence == pytest.approx(0.6)
    assert "hedge" not in plain.provenance


def test_wish_before_enabling_code_means_absent(tiny: RuleAssistant) -> None:
    out = suggest(tiny, "I wish we were in the same office.")
    assert set(out) == {"team_exclusion"}
    assert out["team_exclusion"].provenance["negated_from"] == "co_location"
    assert out["team_exclusion"].provenance["negation"] == "i wish"
    # no negated_code: the wish just drops the match
    assert suggest(tiny, "It would be nice if I was in 2 days a week at the hub.") == {}
    [entry] = tiny.explain("If only I was in 2 days a week at the hub.")
    assert entry["dropped"] == "hypothetical" and entry["hypothetical"] == "if only"


def test_wish_about_a_neutral_or_hindering_code_is_kept_but_hedged(tiny: RuleAssistant) -> None:
    s = suggest(tiny, "I wish the integration was better.")["integration"]
    assert s.provenance["hedged"] and s.provenance["hedge"] == "i wish"
    assert s.confidence == pytest.approx(0.42)
    s = suggest(tiny, "I wish I didn't feel like an outsider.")["team_exclusion"]
    assert s.provenance["hedge"] == "i wish" and s.confidence == pytest.approx(0.42)


def test_counterfactual_denies_a_hindering_code(tiny: RuleAssistant) -> None:
    assert suggest(tiny, "If I was an outsider I would have left.") == {}
    [entry] = tiny.explain("If I was an outsider I would have left.")
    assert entry["dropped"] == "hypothetical" and entry["hypothetical"] == "if i was"


def test_open_conditional_denies_only_asserted_codes(tiny: RuleAssistant) -> None:
    text = "If I get a job I will need a routine, and integration will matter."
    out = suggest(tiny, text, "client")  # job start and routine are outcomes: denied
    assert set(out) == {"integration"} and out["integration"].provenance["hedged"] is False


def test_questions_inside_answers(tiny: RuleAssistant) -> None:
    assert suggest(tiny, "They ask me, are you in the same office? And I say no.") == {}
    assert suggest(tiny, "People ask, did you get a job? Not yet.", "client") == {}
    s = suggest(tiny, "People ask, is the integration working?")["integration"]
    assert s.provenance["hedge"] == "question" and s.confidence == pytest.approx(0.42)
    kept = suggest(tiny, "We're in the same office, you know?")["co_location"]
    assert kept.provenance["hedged"] is False
    kept = suggest(tiny, "She's in the same office, so I ask her, can you see him?")
    assert kept["co_location"].provenance["hedged"] is False


# --- hierarchy and provenance ---------------------------------------------------------------

def test_sub_code_shadows_its_ancestor_and_ancestors_are_not_added(tiny: RuleAssistant) -> None:
    assert set(suggest(tiny, "Integration is good, we're in the same office.")) == {"co_location"}
    assert set(suggest(tiny, "We are in the same office.")) == {"co_location"}
    assert set(suggest(tiny, "Integration took a year.")) == {"integration"}


def test_provenance_is_complete(tiny: RuleAssistant) -> None:
    text = "We're on site and it is well integrated."
    for s in tiny.suggest([seg(text)]):
        p = s.provenance
        assert {"rule", "span", "matched", "kind", "rules", "hedged"} <= set(p)
        assert p["rule"] in p["rules"] and p["kind"] in {"phrase", "lemma", "pattern"}
        check_span(s, text, p["matched"])
        assert 0 < s.confidence <= 0.95


def test_suggest_is_pure_and_ordered(tiny: RuleAssistant) -> None:
    segs = [seg("We are on site.", sid=5), seg("I got a job, a routine too.", "client", 2)]
    first = tiny.suggest(segs)
    assert first == tiny.suggest(iter(segs))
    assert [(s.segment_id, s.code) for s in first] == [
        (5, "co_location"), (2, "job_start"), (2, "wider_benefits")]


# --- offsets ------------------------------------------------------------------------------

def test_length_changing_lower_case_keeps_spans_right(tiny: RuleAssistant) -> None:
    text = "\u0130stanbul \u0130NTEGRATION matters, we're in the same office."
    assert len(_lower_keep_length(text)) == len(text) and len(text.lower()) != len(text)
    out = suggest(tiny, text)
    check_span(out["co_location"], text, "same office")
    alone = "\u0130NTEGRATION matters."
    check_span(suggest(tiny, alone)["integration"], alone, "\u0130NTEGRATION")


def test_explain_lists_every_match(tiny: RuleAssistant) -> None:
    entries = tiny.explain("Maybe we're not on site, but I got a job.", role="es")
    by_rule = {e["rule"]: e for e in entries}
    assert by_rule["co_location.on_site"]["negated"]
    assert by_rule["co_location.on_site"]["counts_for"] == "team_exclusion"
    assert by_rule["job_start.got_job"]["counts_for"] == "job_start"
    assert by_rule["co_location.on_site"]["hedge"] == "maybe"
    text = "Maybe we're not on site, but I got a job."
    start, end = by_rule["co_location.on_site"]["span"]
    assert text[start:end] == "on site"


# --- the compiled machinery agrees with spaCy ------------------------------------------------

SENTENCES = [
    "I'm in the office at the treatment centre three days a week, based with the team.",
    "She'd always text me, and they're still working there 6 months on.",
    "We were referred to IPS; referrals have picked up and I go to the MDT meetings.",
    "I still can't get onto their system so I email the keyworker and wait.",
    "He had 30 clients on his caseload. My recovery was up and down.",
    "Within a couple of weeks she was out of work for 2 years no more.",
]


def test_fast_lemmas_equal_the_lookup_lemmatizer(default: RuleAssistant) -> None:
    for text in SENTENCES:
        doc = next(iter(default._docs([_lower_keep_length(text)])))
        assert [t.lemma_ for t in doc] == lemmatize(text)


def test_anchored_token_patterns_find_what_spacy_finds(default: RuleAssistant) -> None:
    compiled, _ = compile_rules(default.codebook)
    total = 0
    for text in SENTENCES + [" ".join(SENTENCES)]:
        doc = next(iter(default._docs([_lower_keep_length(text)])))
        ours = sorted(set(default._matcher(doc)))
        assert ours == sorted(set(compiled.matcher(doc)))
        total += len(ours)
    assert total > 10


PATTERN_BOOK = """
codebook: {name: Patterns}
codes:
  - id: topic
    name: Topic
    rules:
      - id: topic.unanchored
        pattern: [{LIKE_NUM: true}, {IS_PUNCT: true, OP: "?"}, {LIKE_NUM: true}]
      - id: topic.unbounded
        pattern: [{LOWER: "within"}, {OP: "*"}, {LOWER: {IN: ["weeks", "months"]}}]
      - id: topic.lemma_star
        pattern: [{LEMMA: "go"}, {IS_PUNCT: false, OP: "*"}, {LOWER: "mdt"}]
"""


def test_unanchored_and_unbounded_patterns_match_like_spacy() -> None:
    cb = codebook_from_yaml_text(PATTERN_BOOK)
    ra = RuleAssistant(cb)
    compiled, _ = compile_rules(cb)
    text = ("Within a few, long weeks. He went, twice, to the MDT. Twenty 3 people went to the "
            "weekly MDT within six months.\nWithin\n two weeks")
    doc = next(iter(ra._docs([_lower_keep_length(text)])))
    ours = sorted(set(ra._matcher(doc)))
    assert ours == sorted(set(compiled.matcher(doc)))
    assert {ra._rules[k].id for k, _, _ in ours} == {
        "topic.unanchored", "topic.unbounded", "topic.lemma_star"}


def test_bad_codebook_raises_invalid_codebook() -> None:
    with pytest.raises(InvalidCodebook, match="pattern"):
        RuleAssistant(load_codebook(FIXTURES / "bad_pattern.yaml"))


# --- the default codebook on hand-written sentences -------------------------------------------

THEMES = {
    "integration": [
        ("es", "I sit with the care co-ordinators at the CMHT on Tuesdays and Thursdays."),
        ("ad_staff", "At first nobody referred, but now we send people over all the time."),
        ("es", "The team treat me as one of them and I'm in the weekly MDT."),
    ],
    "fidelity": [
        ("ips_manager", "Our fidelity review gave us an action plan we're working through."),
        ("es", "Anyone who wants to work can come to us, there's no screening out."),
        ("es", "I've got twenty-eight people on my caseload at the moment."),
    ],
    "employer_engagement": [
        ("es", "I go and visit the employer in person and meet the hiring manager."),
        ("es", "It's her choice whether to disclose her mental health to the employer."),
        ("employer", "Honestly, a criminal record would have put some employers off."),
    ],
    "es_qualities": [
        ("client", "She was so patient and never judged me for my past."),
        ("es", "Some weeks it's emotionally draining, so supervision really helps."),
        ("client", "He went above and beyond for me, came with me to the interview."),
    ],
    "client_experience": [
        ("client", "There was never any pressure, it was always at my own pace."),
        ("client", "My confidence has come on so much since I started seeing her."),
        ("client", "The jobcentre just wanted me in any job going."),
    ],
    "barriers": [
        ("client", "I was in a hostel then, so work was the last thing on my mind."),
        ("es", "He's scared he'll lose his benefits if the job doesn't work out."),
        ("client", "I hadn't worked for about ten years before this."),
    ],
    "outcomes": [
        ("client", "I got the job at the garden centre and started last month."),
        ("es", "She's still in work after thirteen weeks and they've made her permanent."),
        ("client", "Having a routine has helped me cut down my drinking."),
    ],
}


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_default_codebook_suggests_each_theme(default: RuleAssistant, theme: str) -> None:
    cb: Codebook = default.codebook
    for role, text in THEMES[theme]:
        themes = {cb.top_level(s.code) for s in default.suggest([seg(text, role)])}
        assert theme in themes, (text, themes)


def test_default_codebook_negation_redirects(default: RuleAssistant) -> None:
    out = suggest(default, "I'm not invited to the MDT and I'm not based in the team.")
    assert "team_exclusion" in out and "team_participation" not in out
    assert "co_location" not in out
    out = suggest(default, "She never made me feel judged.", "client")
    assert "people_skills" in out and "health_stigma" not in out


def test_default_codebook_is_quiet_on_small_talk(default: RuleAssistant) -> None:
    for text in ("Yes, that's fine, go ahead.", "Sorry, could you repeat the question?",
                 "Thanks, that's everything from me."):
        assert suggest(default, text) == {}, text
