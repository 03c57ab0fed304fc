"""The web app in a real browser (Debian's Chromium through Playwright) against a real
server on 127.0.0.1 and a real SQLite project; results are checked in the database and in
``qualcode export codings``."""

from __future__ import annotations

import csv
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from qualcode.coding.base import Suggestion
from qualcode.ingest.pipeline import ingest_paths
from qualcode.store.codings import coding_rows, store_suggestions
from qualcode.store.repo import Store

CLIENT_TEXT = ("Interviewer: What happened next?\n"
               "Service user: I got a job 😀 at the café <script>alert(1)</script> last week. "
               "Work gives me a routine now.\n")

# Sets a DOM Range over the first occurrence of `words` in a turn (it may cross highlighted
# pieces) and lets go of the mouse there, as a person selecting with the mouse does.
SELECT_WORDS = """([segment, words]) => {
  const seg = document.querySelector(`.seg-text[data-segment="${segment}"]`);
  const i = seg.textContent.indexOf(words), j = i + words.length;
  if (i < 0) return false;
  const range = document.createRange();
  const walker = document.createTreeWalker(seg, NodeFilter.SHOW_TEXT);
  let pos = 0, node, started = false;
  while ((node = walker.nextNode())) {
    const len = node.data.length;
    if (!started && i < pos + len) { range.setStart(node, i - pos); started = true; }
    if (j <= pos + len) { range.setEnd(node, j - pos); break; }
    pos += len;
  }
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
  const box = range.getBoundingClientRect();
  seg.dispatchEvent(new MouseEvent("mouseup", {bubbles: true, clientX: box.right, clientY: box.bottom}));
  return true;
}"""

WORD_BOX = """([segment, word]) => {
  const seg = document.querySelector(`.seg-text[data-segment="${segment}"]`);
  const walker = document.createTreeWalker(seg, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const i = node.data.indexOf(word);
    if (i >= 0) {
      const range = document.createRange();
      range.setStart(node, i); range.setEnd(node, i + word.length);
      const r = range.getBoundingClientRect();
      return {x: r.left + r.width / 2, y: r.top + r.height / 2};
    }
  }
  return null;
}"""


# A deprecation in a fixture is an error here, so the base_url fix below cannot quietly regress.
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestRemovedIn10Warning")


@pytest.fixture(scope="session")
def base_url(pytestconfig: pytest.Config) -> str | None:
    """pytest-playwright's own ``base_url`` (used when pytest-base-url is not installed) is a
    session-scoped fixture defined as an instance method of a plugin class, which pytest 9
    deprecates (PytestRemovedIn10Warning). This plain function with the same behaviour
    (``--base-url``, then the ``base_url`` ini value) overrides it for these tests."""
    try:
        return pytestconfig.getoption("--base-url") or pytestconfig.getini("base_url") or None
    except ValueError:  # neither plugin registered the option
        return None


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    return {"executable_path": "/usr/bin/chromium",
            "args": ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run"]}


@pytest.fixture
def live(tmp_path: Path, tiny_codebook, transcripts: Path):  # noqa: ANN001, ANN201
    """The app served by werkzeug in a thread, on a project with three suggestions."""
    from qualcode.web.app import create_app

    path = str(tmp_path / "browser.db")
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "site_a_client.txt").write_text(CLIENT_TEXT, encoding="utf-8")
    with Store.open(path, create=True) as store:
        store.save_codebook(tiny_codebook)
        ingest_paths(store, [transcripts], manifest=transcripts / "manifest.csv")
        ingest_paths(store, [tmp_path / "extra" / "site_a_client.txt"], site="Site A", wave="1")
        docs = {d["name"]: d for d in store.documents(with_text=True)}
        segs = store.segment_rows()
        es = next(s for s in segs if s["document"] == "site_a_es.txt")
        client = next(s for s in segs if s["document"] == "site_a_client.txt")
        i = es["text"].index("three days a week")
        store_suggestions(store, [
            Suggestion(es["segment_id"], "co_location", "rule", 0.9,
                       {"rule": "co_location.days_a_week", "span": [es["start"] + i, es["start"] + i + 17],
                        "matched": "three days a week"}),
            Suggestion(client["segment_id"], "job_start", "rule", 0.8, {"rule": "job_start.got_job"}),
        ], "rule")
        store_suggestions(store, [Suggestion(es["segment_id"], "team_exclusion", "classifier", 0.61,
                                             {"model": "classifier", "score": 0.61})], "classifier")
        ids = {r["code"]: r["coding_id"] for r in coding_rows(store)}
    app = create_app(path, secret_key=b"browser-tests")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", path=path, es=es, client=client, ids=ids,
                          docs={n: d["id"] for n, d in docs.items()}, texts={n: d["text"] for n, d in docs.items()})
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["qualcode"].store.close()


@pytest.fixture(autouse=True)
def screenshot_on_failure(page: Page, request: pytest.FixtureRequest):  # noqa: ANN201
    """Keep a screenshot in test-results/ when a test fails (pytest-playwright records the outcome)."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        out = Path(request.config.rootpath) / "test-results" / f"{request.node.name}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=True)


def sign_in(page: Page, live: SimpleNamespace, name: str = "alice") -> None:
    page.goto(live.url + "/")
    expect(page).to_have_url(f"{live.url}/coder?next=/")
    page.fill("#coder-input", name)
    page.click("text=Start coding")
    expect(page.locator("#coder-name")).to_have_text(name)


def statuses(live: SimpleNamespace, **filters: Any) -> dict[str, tuple[str, str | None]]:
    with Store.open(live.path) as store:
        return {r["code"]: (r["status"], r["decided_by"]) for r in coding_rows(store, **filters)}


def exported(live: SimpleNamespace, tmp_path: Path) -> list[dict[str, str]]:
    from qualcode.cli import main

    out = tmp_path / "codings.csv"
    result = CliRunner().invoke(main, ["--project", live.path, "export", "codings", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_accept_and_reject_by_clicking(page: Page, live: SimpleNamespace, tmp_path: Path) -> None:
    sign_in(page, live)
    page.click("text=site_a_es.txt")
    expect(page.locator("h1")).to_have_text("site_a_es.txt")
    co, te = live.ids["co_location"], live.ids["team_exclusion"]
    span = page.locator(f'.seg-text span[data-codings~="{co}"]').first
    expect(span).to_have_text("three days a week")
    assert "co_location.days_a_week" in span.get_attribute("title")
    page.locator(f"#c-{co} button[value=accept]").click()
    expect(page.locator(f"#c-{co}")).to_have_attribute("data-state", "accepted")
    expect(span).to_have_class("hl hl-accepted hl-suggested")  # the whole-turn classifier suggestion still open
    page.locator(f"#c-{te} button[value=reject]").click()
    expect(page.locator(f"#c-{te}")).to_have_attribute("data-state", "rejected")
    expect(page.locator("#n-suggested")).to_have_text("0")
    assert statuses(live) == {"co_location": ("accepted", "alice"), "team_exclusion": ("rejected", "alice"),
                              "job_start": ("suggested", None)}
    rows = {r["code"]: r for r in exported(live, tmp_path)}
    assert (rows["co_location"]["status"], rows["co_location"]["coder"]) == ("accepted", "alice")
    assert (rows["team_exclusion"]["status"], rows["team_exclusion"]["coder"]) == ("rejected", "alice")
    page.reload()
    expect(page.locator(f"#c-{co}")).to_have_attribute("data-state", "accepted")
    expect(page.locator(f"#c-{te}")).to_have_class("chip state-rejected src-classifier")


def test_keys_move_accept_reject_and_undo(page: Page, live: SimpleNamespace) -> None:
    sign_in(page, live)
    page.goto(f"{live.url}/documents/{live.docs['site_a_es.txt']}")
    co, te = live.ids["co_location"], live.ids["team_exclusion"]
    page.keyboard.press("j")
    expect(page.locator(f"#c-{co}")).to_be_focused()
    page.keyboard.press("a")
    expect(page.locator(f"#c-{co}")).to_have_attribute("data-state", "accepted")
    page.keyboard.press("j")
    expect(page.locator(f"#c-{te}")).to_be_focused()
    page.keyboard.press("r")
    expect(page.locator(f"#c-{te}")).to_have_attribute("data-state", "rejected")
    page.keyboard.press("k")
    expect(page.locator(f"#c-{co}")).to_be_focused()
    assert statuses(live)["team_exclusion"] == ("rejected", "alice")
    with page.expect_navigation():
        page.keyboard.press("u")
    expect(page.locator(f"#c-{te}")).to_have_attribute("data-state", "suggested")
    expect(page.locator(f"#c-{co}")).to_have_attribute("data-state", "accepted")
    assert statuses(live)["team_exclusion"] == ("suggested", "alice")


def test_select_words_after_an_emoji_and_apply_a_code(page: Page, live: SimpleNamespace, tmp_path: Path) -> None:
    sign_in(page, live)
    page.goto(f"{live.url}/documents/{live.docs['site_a_client.txt']}")
    seg, text = live.client, live.texts["site_a_client.txt"]
    start = text.index("at the café")  # code points: the emoji before it counts once
    assert page.evaluate(SELECT_WORDS, [seg["segment_id"], "at the café"])
    expect(page.locator("#selection-info")).to_contain_text(f"at the café (characters {start}–{start + 11})")
    page.fill("#code-search", "wider")
    expect(page.locator("#code-tree li:not([hidden])")).to_have_count(2)  # the code and its parent
    with page.expect_navigation():
        page.click("#code-tree button:has-text('Wider benefits')")
    added = page.locator(".chip.src-human")
    expect(added.locator(".code-name")).to_have_text("Wider benefits")
    assert len("I got a job 😀 at".encode("utf-16-le")) // 2 == len("I got a job 😀 at") + 1  # one astral character
    with Store.open(live.path) as store:
        [row] = coding_rows(store, source="human")
    assert (row["code"], row["start_char"], row["end_char"], row["decided_by"], row["status"]) == (
        "wider_benefits", start, start + len("at the café"), "alice", "accepted")
    assert text[row["start_char"]:row["end_char"]] == "at the café"
    expect(page.locator(f'.seg-text span[data-start="{start}"]')).to_have_text("at the café")
    [out] = [r for r in exported(live, tmp_path) if r["source"] == "human"]
    assert (out["code"], out["coder"], out["status"], out["document"]) == (
        "wider_benefits", "alice", "accepted", "site_a_client.txt")

    # a selection that crosses highlighted pieces, in another transcript
    page.goto(f"{live.url}/documents/{live.docs['site_a_es.txt']}")
    es = live.es
    assert page.evaluate(SELECT_WORDS, [es["segment_id"], "team three days"])
    page.fill("#code-search", "exclusion")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    es_text = live.texts["site_a_es.txt"]
    with Store.open(live.path) as store:
        row = next(r for r in coding_rows(store, source="human") if r["code"] == "team_exclusion")
    assert es_text[row["start_char"]:row["end_char"]] == "team three days"


def test_double_click_selects_a_word_with_the_real_mouse(page: Page, live: SimpleNamespace) -> None:
    sign_in(page, live)
    page.goto(f"{live.url}/documents/{live.docs['site_a_client.txt']}")
    seg, text = live.client, live.texts["site_a_client.txt"]
    box = page.evaluate(WORD_BOX, [seg["segment_id"], "routine"])
    page.mouse.dblclick(box["x"], box["y"])
    start = text.index("routine")
    expect(page.locator("#apply-start")).to_have_value(str(start))
    expect(page.locator("#apply-end")).to_have_value(str(start + len("routine")))
    page.fill("#code-search", "job")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    with Store.open(live.path) as store:
        [row] = coding_rows(store, source="human")
    assert (row["code"], text[row["start_char"]:row["end_char"]]) == ("job_start", "routine")


def test_script_in_a_transcript_is_text(page: Page, live: SimpleNamespace) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, live)
    page.goto(f"{live.url}/documents/{live.docs['site_a_client.txt']}")
    turn = page.locator(f'.seg-text[data-segment="{live.client["segment_id"]}"]')
    expect(turn).to_contain_text("<script>alert(1)</script>")
    assert page.locator("script").count() == 2  # only the page's own common.js and transcript.js
    assert page.evaluate("() => [...document.scripts].map(s => s.src)") == [
        f"{live.url}/static/common.js", f"{live.url}/static/transcript.js"]
    page.wait_for_timeout(200)
    assert dialogs == []
    expect(page.locator(".turn.interviewer .turn-label")).to_have_text("Interviewer")
    expect(page.locator(".turn.role-client .turn-label")).to_have_text("IPS client")
    assert "Service user" not in page.content()


def test_plain_forms_work_without_javascript(browser, live: SimpleNamespace) -> None:  # noqa: ANN001
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live)
        page.goto(f"{live.url}/documents/{live.docs['site_a_es.txt']}")
        expect(page.locator("#apply-panel")).to_be_hidden()  # the selection panel needs JavaScript
        co = live.ids["co_location"]
        with page.expect_navigation():
            page.locator(f"#c-{co} button[value=accept]").click()
        expect(page.locator(f"#c-{co}")).to_have_attribute("data-state", "accepted")
        page.goto(f"{live.url}/documents/{live.docs['site_a_client.txt']}")
        page.click(f"#seg-{live.client['segment_id']} >> text=Code this turn…")
        page.fill("#quote", "got a job")
        page.check("input[value=job_start]")
        page.click("text=Apply code")
        expect(page.locator(".chip.src-human .code-name")).to_have_text("Job start")
        text = live.texts["site_a_client.txt"]
        with Store.open(live.path) as store:
            [row] = coding_rows(store, source="human")
        assert text[row["start_char"]:row["end_char"]] == "got a job" and row["decided_by"] == "alice"
        page.click("#undo-form button")
        expect(page.locator(".flash")).to_contain_text("undid your last add")
        expect(page.locator(".chip.src-human")).to_have_count(0)
        assert statuses(live, source="human") == {"job_start": ("rejected", "alice")}
        assert statuses(live)["co_location"] == ("accepted", "alice")
    finally:
        context.close()


def reviewed_by(live: SimpleNamespace, coder: str = "alice") -> set[int]:
    from qualcode.store.codings import reviewed_segments

    with Store.open(live.path) as store:
        return reviewed_segments(store, coder)


def test_nothing_to_code_here_by_button_and_by_key(page: Page, live: SimpleNamespace) -> None:
    sign_in(page, live)
    with Store.open(live.path) as store:
        cafe = next(s for s in store.segment_rows() if "café by café" in s["text"])
    page.goto(f"{live.url}/documents/{live.docs['site_a_es.txt']}")
    turn = page.locator(f"#seg-{cafe['segment_id']}")
    turn.locator("button.nothing-btn").click()  # the page's fetch, no reload
    expect(turn.locator(".badge.state-nothing")).to_have_text("nothing to code")
    expect(turn.locator("form.nothing")).to_have_count(0)
    assert reviewed_by(live) == {cafe["segment_id"]}
    assert statuses(live)["co_location"] == ("suggested", None)  # other turns untouched

    # key n on the turn of the focused suggestion (its suggestion stays open)
    page.goto(f"{live.url}/documents/{live.docs['site_a_client.txt']}")
    page.keyboard.press("j")
    expect(page.locator(f"#c-{live.ids['job_start']}")).to_be_focused()
    page.keyboard.press("n")
    client_turn = page.locator(f"#seg-{live.client['segment_id']}")
    expect(client_turn.locator(".badge.state-nothing")).to_be_visible()
    assert reviewed_by(live) == {cafe["segment_id"], live.client["segment_id"]}
    assert statuses(live)["job_start"] == ("suggested", None)
    page.reload()
    expect(client_turn.locator(".badge.state-nothing")).to_have_text("nothing to code")

    # the review queue skips both now
    page.goto(f"{live.url}/queue")
    listed = page.locator("#queue li[data-segment]")
    expect(listed.first).to_be_visible()
    shown = {int(x) for x in listed.evaluate_all("els => els.map(e => e.dataset.segment)")}
    assert shown and not shown & {cafe["segment_id"], live.client["segment_id"]}


def test_review_queue_keys_mark_nothing_to_code(page: Page, live: SimpleNamespace) -> None:
    sign_in(page, live)
    page.goto(f"{live.url}/queue")
    items = page.locator("#queue li[data-segment]")
    before = [int(x) for x in items.evaluate_all("els => els.map(e => e.dataset.segment)")]
    assert len(before) >= 2
    page.keyboard.press("j")
    expect(items.first).to_be_focused()
    page.keyboard.press("j")
    expect(items.nth(1)).to_be_focused()
    page.keyboard.press("n")
    expect(page.locator(f'#queue li[data-segment="{before[1]}"]')).to_have_count(0)
    expect(items).to_have_count(len(before) - 1)
    expect(items.nth(min(1, len(before) - 2))).to_be_focused()  # the next one, or the last
    assert reviewed_by(live) == {before[1]}
    page.locator(f'#queue li[data-segment="{before[0]}"] button.nothing-btn').click()
    expect(page.locator(f'#queue li[data-segment="{before[0]}"]')).to_have_count(0)
    assert reviewed_by(live) == {before[0], before[1]}
    page.reload()
    after = [int(x) for x in items.evaluate_all("els => els.map(e => e.dataset.segment)")]
    assert after == [s for s in before if s not in (before[0], before[1])]
    assert reviewed_by(live, "bob") == set()


def test_nothing_to_code_without_javascript(browser, live: SimpleNamespace) -> None:  # noqa: ANN001
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live)
        page.goto(f"{live.url}/queue")
        first = int(page.locator("#queue li[data-segment]").first.get_attribute("data-segment"))
        with page.expect_navigation():
            page.locator(f'#queue li[data-segment="{first}"] button.nothing-btn').click()
        expect(page).to_have_url(f"{live.url}/queue")
        expect(page.locator(f'#queue li[data-segment="{first}"]')).to_have_count(0)
        assert reviewed_by(live) == {first}
    finally:
        context.close()
