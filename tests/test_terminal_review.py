"""Review in the terminal: scripted key sequences against a real store, and the real command."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from qualcode.cli import main
from qualcode.coding.base import Suggestion
from qualcode.coding.review import review_items
from qualcode.coding.terminal import TerminalReview, review_session
from qualcode.errors import InvalidInput
from qualcode.ingest.pipeline import ingest_paths
from qualcode.store.codings import coding_rows, store_suggestions
from qualcode.store.repo import Store
from qualcode.store.schema import coding_events, segment_reviews


def _suggest(store: Store) -> tuple[int, int, int]:
    es, cafe, client = (s["segment_id"] for s in store.segment_rows())
    store_suggestions(store, [
        Suggestion(es, "co_location", "rule", 0.8, {"rule": "co_location.days_a_week", "matched": "three days a week"}),
        Suggestion(client, "wider_benefits", "rule", 0.6, {"rule": "wider_benefits.routine", "matched": "every week"}),
    ], "rule")
    store_suggestions(store, [Suggestion(es, "job_start", "classifier", 0.71, {"score": 0.71})], "classifier")
    return es, cafe, client


@pytest.fixture
def store(memory_store: Store, transcripts: Path) -> Store:
    ingest_paths(memory_store, [transcripts], manifest=transcripts / "manifest.csv")
    _suggest(memory_store)
    return memory_store


class Script:
    """Feeds commands one by one (EOFError when they run out) and records everything written."""

    def __init__(self, *commands: str) -> None:
        self.commands = list(commands)
        self.prompts = 0
        self.out: list[str] = []

    def read(self, prompt: str) -> str:
        self.prompts += 1
        if not self.commands:
            raise EOFError
        return self.commands.pop(0)

    def write(self, text: str) -> None:
        self.out.append(text)

    @property
    def text(self) -> str:
        return "\n".join(self.out)


def ids(store: Store) -> tuple[int, int, int]:
    es, cafe, client = (s["segment_id"] for s in store.segment_rows())
    return es, cafe, client


def decided(store: Store, coder: str) -> dict[tuple[int, str, str], str]:
    return {(r["segment_id"], r["code"], r["source"]): r["status"] for r in coding_rows(store) if r["decided_by"] == coder}


def reviewed(store: Store, coder: str) -> set[int]:
    with store.read() as conn:
        return {r[0] for r in conn.execute(select(segment_reviews.c.segment_id).where(segment_reviews.c.coder == coder))}


def test_scripted_session_accepts_rejects_adds_undoes_and_marks_done(store: Store) -> None:
    es, cafe, client = ids(store)
    s = Script("?", "a 1", "r 2", "+ co_", "+ team_exclusion", "u", "x", "a 7", "d", "+ wider_benefits", "s")
    stats = review_session(store, "alice", read=s.read, write=s.write)
    assert decided(store, "alice") == {
        (es, "co_location", "rule"): "accepted",
        (es, "job_start", "classifier"): "rejected",
        (es, "team_exclusion", "human"): "rejected",  # added, then undone: kept, marked rejected
        (client, "wider_benefits", "rule"): "accepted",  # '+ CODE' of a suggested code accepts the suggestion
    }
    assert reviewed(store, "alice") == {es, client}
    assert (stats.accepted, stats.rejected, stats.added, stats.undone, stats.skipped) == (2, 1, 1, 1, 1)
    out = s.text
    assert "segment" in out and "site_a_es.txt · Site A · es" in out
    assert "before  Interviewer: How is the team working with you?" in out
    assert "1. co_location (rule co_location.days_a_week 0.80: 'three days a week')  [open]" in out
    assert "2. job_start (classifier 0.71)  [open]" in out
    assert "undo your latest decision" in out  # the help
    assert "codes matching 'co_':\n  co_location" in out
    assert "undone: add of team_exclusion" in out
    assert "unknown command 'x'" in out and "no suggestion 7 (there are 2)" in out
    assert "accepted the suggestion of wider_benefits" in out
    assert out.rstrip().endswith("accepted 2, rejected 1, added 1, undone 1, skipped 1; 2 segments coded")
    with store.read() as conn:
        actions = [r.action for r in conn.execute(select(coding_events.c.action).order_by(coding_events.c.id))]
    assert actions == ["accept", "reject", "add", "undo", "accept"]


def test_accept_all_moves_on_and_undo_goes_back(store: Store) -> None:
    es, _, client = ids(store)
    s = Script("a", "u", "q")
    review_session(store, "bob", read=s.read, write=s.write)
    assert decided(store, "bob") == {(es, "co_location", "rule"): "accepted", (es, "job_start", "classifier"): "suggested"}
    assert s.text.count("site_a_es.txt · Site A · es") == 2  # shown again after the undo
    assert "── 2/2" in s.text and "saved." in s.text


def test_end_of_input_quits_and_keeps_decisions(store: Store) -> None:
    es = ids(store)[0]
    s = Script("r 1")
    stats = review_session(store, "carol", read=s.read, write=s.write)
    assert decided(store, "carol") == {(es, "co_location", "rule"): "rejected"}
    assert stats.reviewed == {es} and "saved." in s.text


def test_all_status_shows_segments_without_suggestions(store: Store) -> None:
    _, cafe, _ = ids(store)
    items = review_items(store, status="all", documents=["site_a_es.txt"])
    s = Script("s", "a", "+", "+ zz", "d")
    TerminalReview(store, "dana", items, read=s.read, write=s.write).run()
    assert "no suggestions" in s.text and "no open suggestions here" in s.text
    assert "codes:\n  integration" in s.text and "no code starts with 'zz'" in s.text
    assert reviewed(store, "dana") == {cafe} and decided(store, "dana") == {}
    assert "end of the list" in s.text


def test_a_coder_name_is_required(store: Store) -> None:
    s = Script()
    with pytest.raises(InvalidInput, match="coder name"):
        review_session(store, "  ", read=s.read, write=s.write)
    with pytest.raises(InvalidInput, match="coder name"):
        TerminalReview(store, "", [], read=s.read, write=s.write)
    assert s.prompts == 0


def test_review_command_through_the_cli(project_file: Path, transcripts: Path) -> None:
    runner = CliRunner()
    project = ["--project", str(project_file)]
    assert runner.invoke(main, [*project, "ingest", str(transcripts), "--manifest",
                                str(transcripts / "manifest.csv")]).exit_code == 0
    with Store.open(project_file) as st:
        es, _, client = _suggest(st)
    result = runner.invoke(main, [*project, "review", "--coder", "alice"], input="a 1\n+ job_\n+ job_start\nd\nr\n")
    assert result.exit_code == 0, result.output
    assert "review> " in result.output and "codes matching 'job_'" in result.output
    with Store.open(project_file) as st:
        assert decided(st, "alice") == {(es, "co_location", "rule"): "accepted",
                                        (es, "job_start", "classifier"): "accepted",
                                        (client, "wider_benefits", "rule"): "rejected"}
    # no --coder: the name is asked for; --document narrows the list
    result = runner.invoke(main, [*project, "review", "--document", "site_b_client.vtt"], input="bob\na\n")
    assert result.exit_code == 0, result.output
    assert "Coder name" in result.output and "site_a_es.txt" not in result.output
    with Store.open(project_file) as st:
        assert decided(st, "bob") == {(client, "wider_benefits", "rule"): "accepted"}
    result = runner.invoke(main, [*project, "review", "--document", "nope.txt", "--coder", "x"])
    assert result.exit_code == 1 and "unknown document 'nope.txt'" in result.output
