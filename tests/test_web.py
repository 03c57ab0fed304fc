"""The web app through Flask's test client, on a real SQLite project file (and PostgreSQL)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from qualcode.coding.base import Suggestion
from qualcode.ingest.pipeline import ingest_paths
from qualcode.store.codings import coders, coding_rows, reviewed_segments, store_suggestions
from qualcode.store.repo import Store
from qualcode.store.schema import coding_events

CLIENT_TEXT = ("Interviewer: What happened next?\n"
               "Service user: I got a job 😀 at the café <script>alert(1)</script> last week. "
               "Work gives me a routine now.\n")


def build_project(path: str, codebook, transcripts: Path) -> dict[str, Any]:  # noqa: ANN001
    """The transcripts fixture plus a client interview with an emoji and a script tag, and
    three suggestions: a rule with a span, a classifier without one, a rule on the client."""
    extra = transcripts.parent / "extra"
    extra.mkdir(exist_ok=True)
    (extra / "site_a_client.txt").write_text(CLIENT_TEXT, encoding="utf-8")
    with Store.open(path, create=True) as store:
        store.save_codebook(codebook)
        ingest_paths(store, [transcripts], manifest=transcripts / "manifest.csv")
        ingest_paths(store, [extra / "site_a_client.txt"], site="Site A", wave="1")
        docs = {d["name"]: d for d in store.documents(with_text=True)}
        segs = store.segment_rows(all_roles=True)
        es = next(s for s in segs if s["document"] == "site_a_es.txt" and s["role"] == "es")
        client = next(s for s in segs if s["document"] == "site_a_client.txt" and s["role"] == "client")
        words = "three days a week"
        i = es["text"].index(words)
        store_suggestions(store, [
            Suggestion(es["segment_id"], "co_location", "rule", 0.9,
                       {"rule": "co_location.days_a_week", "span": [es["start"] + i, es["start"] + i + len(words)],
                        "matched": words}),
            Suggestion(client["segment_id"], "job_start", "rule", 0.8,
                       {"rule": "job_start.got_job", "matched": "got a job"}),
        ], "rule")
        store_suggestions(store, [Suggestion(es["segment_id"], "team_exclusion", "classifier", 0.61,
                                             {"model": "classifier", "model_id": 1, "score": 0.61, "threshold": 0.5})],
                          "classifier")
        ids = {(r["code"]): r["coding_id"] for r in coding_rows(store)}
    return {"docs": {n: d["id"] for n, d in docs.items()}, "texts": {n: d["text"] for n, d in docs.items()},
            "es": es, "client": client, "codings": ids}


@pytest.fixture
def project(tmp_path: Path, tiny_codebook, transcripts: Path) -> tuple[str, dict[str, Any]]:  # noqa: ANN001
    path = str(tmp_path / "web.db")
    return path, build_project(path, tiny_codebook, transcripts)


@pytest.fixture
def app(project):  # noqa: ANN001, ANN201
    from qualcode.web.app import create_app

    app = create_app(project[0], secret_key=b"test-secret")
    yield app
    app.extensions["qualcode"].store.close()


def csrf(client) -> str:  # noqa: ANN001
    page = client.get("/coder")
    return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)


def login(client, name: str = "alice") -> str:  # noqa: ANN001
    token = csrf(client)
    resp = client.post("/coder", data={"name": name, "csrf_token": token, "next": "/"})
    assert resp.status_code == 302 and resp.location == "/"
    return token


def rows(path: str, **filters: Any) -> list[dict[str, Any]]:
    with Store.open(path) as store:
        return coding_rows(store, **filters)


def test_anonymous_visitors_choose_a_name_and_cannot_write(app, project) -> None:  # noqa: ANN001
    client = app.test_client()
    first = client.get("/documents/1?x=1")
    assert first.status_code == 302 and first.location.startswith("/coder?next=")
    token = csrf(client)
    cid = project[1]["codings"]["co_location"]
    refused = client.post(f"/documents/1/codings/{cid}", data={"decision": "accept", "csrf_token": token})
    assert refused.status_code == 403 and "choose a coder name" in refused.text
    as_json = client.post("/undo", headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert as_json.status_code == 403 and as_json.json["redirect"].startswith("/coder")
    assert {r["status"] for r in rows(project[0])} == {"suggested"}
    bad = client.post("/coder", data={"name": "rules", "csrf_token": token})
    assert bad.status_code == 400 and "reserved" in bad.text
    for evil in ("//evil.example", "/\t/evil.example", "https://evil.example/", "/\\evil.example"):
        resp = client.post("/coder", data={"name": "alice", "csrf_token": token, "next": evil})
        assert resp.status_code == 302 and resp.location == "/", evil
    login(client, "alice")
    page = client.get("/")
    assert page.status_code == 200 and '<strong id="coder-name">alice</strong>' in page.text


def test_documents_page_counts_and_filters(app, project) -> None:  # noqa: ANN001
    client = app.test_client()
    login(client)
    page = client.get("/").text
    names = lambda html: re.findall(r'<tr data-document="([^"]+)"', html)  # noqa: E731
    assert names(page) == ["site_a_client.txt", "site_a_es.txt", "site_b_client.vtt"]
    es_row = re.search(r'<tr data-document="site_a_es.txt">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r'<td class="num">(\d+)</td>', es_row) == ["2", "2", "0"]  # segments, open, accepted
    assert names(client.get("/?site=Site+B").text) == ["site_b_client.vtt"]
    assert names(client.get("/?role=client").text) == ["site_a_client.txt", "site_b_client.vtt"]
    assert names(client.get("/?role=es").text) == ["site_a_es.txt"]
    assert names(client.get("/?wave=2").text) == ["site_b_client.vtt"]
    assert names(client.get("/?status=open").text) == ["site_a_client.txt", "site_a_es.txt"]
    assert names(client.get("/?status=untouched").text) == ["site_a_client.txt", "site_a_es.txt", "site_b_client.vtt"]
    assert names(client.get("/?status=reviewed").text) == []
    token = csrf(client)
    doc = project[1]["docs"]["site_a_es.txt"]
    for code in ("co_location", "team_exclusion"):
        cid = project[1]["codings"][code]
        assert client.post(f"/documents/{doc}/codings/{cid}", data={"decision": "accept", "csrf_token": token}).status_code == 302
    assert names(client.get("/?status=reviewed").text) == ["site_a_es.txt"]
    assert names(client.get("/?status=open").text) == ["site_a_client.txt"]
    assert names(client.get("/?status=untouched&site=Site+A").text) == ["site_a_client.txt"]
    es_row = re.search(r'<tr data-document="site_a_es.txt">(.*?)</tr>', client.get("/").text, re.S).group(1)
    assert re.findall(r'<td class="num">(\d+)</td>', es_row) == ["2", "0", "2"]


def test_transcript_shows_roles_spans_and_provenance(app, project) -> None:  # noqa: ANN001
    client = app.test_client()
    login(client)
    info = project[1]
    page = client.get(f"/documents/{info['docs']['site_b_client.vtt']}").text
    assert "IPS client" in page and "Service user" not in page and "Int<" not in page
    assert page.count('class="turn role-interviewer interviewer"') == 1
    page = client.get(f"/documents/{info['docs']['site_a_es.txt']}").text
    es = info["es"]
    start = es["start"] + es["text"].index("three days a week")
    span = re.search(rf'<span data-start="{start}" class="hl ([^"]+)" data-codings="([^"]+)" title="([^"]+)">([^<]+)</span>', page)
    assert span is not None and span.group(4) == "three days a week"
    assert "hl-suggested" in span.group(1) and len(span.group(2).split()) == 2  # the rule's span and the whole-turn classifier
    assert "co_location.days_a_week" in span.group(3) and "matched \u201cthree days a week\u201d" in span.group(3)
    assert "classifier classifier: score 0.61 (threshold 0.50)" in page
    assert page.count('value="accept"') == 2 and page.count('value="reject"') == 2
    assert 'data-start="%d"' % es["start"] in page and 'data-codable="1"' in page


def test_accept_reject_add_undo_change_the_database(app, project) -> None:  # noqa: ANN001
    path, info = project
    client = app.test_client()
    token = login(client)
    doc = info["docs"]["site_a_es.txt"]
    co, te = info["codings"]["co_location"], info["codings"]["team_exclusion"]
    resp = client.post(f"/documents/{doc}/codings/{co}", data={"decision": "accept", "csrf_token": token})
    assert resp.status_code == 302 and resp.location == f"/documents/{doc}#c-{co}"
    resp = client.post(f"/documents/{doc}/codings/{te}", data={"decision": "reject"},
                       headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert resp.json == {"coding_id": te, "previous_id": te, "status": "rejected"}
    assert {r["code"]: (r["status"], r["decided_by"]) for r in rows(path)} == {
        "co_location": ("accepted", "alice"), "team_exclusion": ("rejected", "alice"), "job_start": ("suggested", None)}
    page = client.get(f"/documents/{doc}").text
    assert 'class="chip state-accepted src-rule"' in page and 'class="chip state-rejected src-classifier"' in page
    client_seg = info["client"]
    text = client_seg["text"]
    i = text.index("😀 at the café")
    start, end = client_seg["start"] + i, client_seg["start"] + i + len("😀 at the café")
    cdoc = info["docs"]["site_a_client.txt"]
    resp = client.post(f"/documents/{cdoc}/segments/{client_seg['segment_id']}/codes",
                       data={"code": "wider_benefits", "start": start, "end": end},
                       headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert resp.status_code == 200, resp.text
    added = [r for r in rows(path, source="human")]
    assert [(r["code"], r["start_char"], r["end_char"], r["decided_by"]) for r in added] == [
        ("wider_benefits", start, end, "alice")]
    assert info["texts"]["site_a_client.txt"][start:end] == "😀 at the café"
    resp = client.post(f"/documents/{cdoc}/segments/{client_seg['segment_id']}/codes",
                       data={"code": "job_start", "quote": "got a job", "csrf_token": token})
    assert resp.status_code == 302
    quoted = next(r for r in rows(path, source="human") if r["code"] == "job_start")
    assert info["texts"]["site_a_client.txt"][quoted["start_char"]:quoted["end_char"]] == "got a job"
    page = client.get(f"/documents/{cdoc}").text
    assert '>😀 at the café</span>' in page and "hl-human" in page
    undone = client.post("/undo", headers={"X-CSRF-Token": token, "Accept": "application/json"}).json["undone"]
    assert undone == {"coding_id": quoted["coding_id"], "undid": "add", "status": "rejected"}
    resp = client.post("/undo", data={"csrf_token": token, "document_id": cdoc})
    assert resp.status_code == 302 and resp.location.startswith(f"/documents/{cdoc}#c-")
    assert {r["code"]: r["status"] for r in rows(path, source="human")} == {"wider_benefits": "rejected", "job_start": "rejected"}
    assert "undid your last add" in client.get(f"/documents/{cdoc}").text


def test_second_coder_decides_independently(app, project) -> None:  # noqa: ANN001
    path, info = project
    alice, bob = app.test_client(), app.test_client()
    ta, tb = login(alice, "alice"), login(bob, "bob")
    doc, co = info["docs"]["site_a_es.txt"], info["codings"]["co_location"]
    alice.post(f"/documents/{doc}/codings/{co}", data={"decision": "accept", "csrf_token": ta})
    page = bob.get(f"/documents/{doc}").text
    assert f'id="c-{co}" data-coding="{co}" data-state="suggested"' in page  # alice's decision is not bob's
    res = bob.post(f"/documents/{doc}/codings/{co}", data={"decision": "reject"},
                   headers={"X-CSRF-Token": tb, "Accept": "application/json"}).json
    assert res["previous_id"] == co and res["coding_id"] != co and res["status"] == "rejected"
    mine = {r["decided_by"]: r["status"] for r in rows(path) if r["code"] == "co_location"}
    assert mine == {"alice": "accepted", "bob": "rejected"}
    assert f'id="c-{res["coding_id"]}"' in bob.get(f"/documents/{doc}").text


def test_library_errors_are_400_with_the_message(app, project) -> None:  # noqa: ANN001
    path, info = project
    client = app.test_client()
    token = login(client)
    es, doc = info["es"], info["docs"]["site_a_es.txt"]
    url = f"/documents/{doc}/segments/{es['segment_id']}/codes"
    resp = client.post(url, data={"code": "job_start", "start": es["start"], "end": es["end"] + 5, "csrf_token": token})
    assert resp.status_code == 400 and f"is not inside segment {es['segment_id']}" in resp.text
    resp = client.post(url, data={"code": "no_such_code", "csrf_token": token})
    assert resp.status_code == 400 and "unknown code" in resp.text
    resp = client.post(url, data={"code": "job_start", "start": "x", "csrf_token": token})
    assert resp.status_code == 400 and "whole number" in resp.text
    resp = client.post(url, data={"code": "job_start", "quote": "not in there", "csrf_token": token})
    assert resp.status_code == 400 and "are not in this turn" in resp.text
    with Store.open(path) as store:
        interviewer = next(s for s in store.segment_rows(all_roles=True) if s["role"] == "interviewer")
    resp = client.post(f"/documents/{interviewer['document_id']}/segments/{interviewer['segment_id']}/codes",
                       data={"code": "job_start", "csrf_token": token})
    assert resp.status_code == 400 and "interviewer turns are not coded" in resp.text
    resp = client.post(f"/documents/{doc}/codings/999999", data={"decision": "accept", "csrf_token": token},
                       headers={"Accept": "application/json"})
    assert resp.status_code == 400 and "unknown coding 999999" in resp.json["error"]
    assert rows(path, source="human") == []


def test_csrf_missing_or_wrong_is_refused(app, project) -> None:  # noqa: ANN001
    path, info = project
    client = app.test_client()
    login(client)
    doc, co = info["docs"]["site_a_es.txt"], info["codings"]["co_location"]
    for extra in ({}, {"csrf_token": "wrong"}):
        resp = client.post(f"/documents/{doc}/codings/{co}", data={"decision": "accept", **extra})
        assert resp.status_code == 400 and "security token" in resp.text
    resp = client.post("/undo", headers={"X-CSRF-Token": "wrong", "Accept": "application/json"})
    assert resp.status_code == 400
    other = app.test_client()  # a token from another session is wrong here
    resp = client.post(f"/documents/{doc}/codings/{co}", data={"decision": "accept", "csrf_token": csrf(other)})
    assert resp.status_code == 400
    assert app.test_client().post("/coder", data={"name": "mallory"}).status_code == 400
    assert {r["status"] for r in rows(path)} == {"suggested"}


def test_transcript_text_is_escaped(app, project) -> None:  # noqa: ANN001
    client = app.test_client()
    login(client)
    page = client.get(f"/documents/{project[1]['docs']['site_a_client.txt']}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"


def test_access_token_is_needed_once_when_the_app_has_one(project) -> None:  # noqa: ANN001
    from qualcode.web.app import create_app
    from qualcode.web.security import access_token_for, is_local

    assert access_token_for("127.0.0.1", None) == (None, None)
    token, warning = access_token_for("0.0.0.0", None)
    assert token and len(token) >= 20 and "warning" in warning
    assert access_token_for("192.168.1.5", "given")[0] == "given"
    assert is_local("localhost") and is_local("[::1]") and not is_local("0.0.0.0")
    app = create_app(project[0], token="s3cret-token")
    client = app.test_client()
    assert client.get("/coder").status_code == 401
    assert client.get("/static/app.css").status_code == 401
    assert client.get("/coder?token=wrong").status_code == 401
    resp = client.get("/coder?token=s3cret-token&next=/queue")
    assert resp.status_code == 302 and resp.location == "/coder?next=%2Fqueue"  # the token leaves the address
    assert client.get("/coder").status_code == 200
    assert app.test_client().get("/coder").status_code == 401  # another browser still needs it
    app.extensions["qualcode"].store.close()


def test_unknown_documents_and_segments_are_404(app, project) -> None:  # noqa: ANN001
    client = app.test_client()
    token = login(client)
    assert client.get("/documents/9999").status_code == 404
    assert "no document 9999" in client.get("/documents/9999").text
    assert client.get("/documents/abc").status_code == 404
    doc = project[1]["docs"]["site_a_es.txt"]
    assert client.get(f"/documents/{doc}/segments/9999/code").status_code == 404
    no_js = client.get(f"/documents/{doc}/segments/{project[1]['es']['segment_id']}/code").text
    assert 'type="radio" name="code" value="co_location"' in no_js and 'name="quote"' in no_js
    assert client.post(f"/documents/{doc}/segments/9999/codes", data={"code": "job_start", "csrf_token": token}).status_code == 404


def test_no_request_reaches_the_filesystem(app) -> None:  # noqa: ANN001
    client = app.test_client()
    assert client.get("/static/transcript.js").status_code == 200
    for path in ("/static/../app.py", "/static/..%2fapp.py", "/static/%2e%2e/security.py", "/static//etc/passwd",
                 "/../qualcode/web/app.py"):
        resp = client.get(path, follow_redirects=True)
        assert resp.status_code == 404, path
        assert b"def create_app" not in resp.data and b"root:" not in resp.data


def test_queue_codebook_matrix_and_quotes(app, project) -> None:  # noqa: ANN001
    path, info = project
    client = app.test_client()
    token = login(client)
    queue = client.get("/queue").text
    linked = re.findall(r'<li data-segment="(\d+)">', queue)
    with Store.open(path) as store:
        eligible = {s["segment_id"] for s in store.segment_rows()}
    assert linked and set(map(int, linked)) == eligible
    assert f'href="/documents/{info["docs"]["site_a_es.txt"]}#seg-{info["es"]["segment_id"]}"' in queue
    doc, co = info["docs"]["site_a_es.txt"], info["codings"]["co_location"]
    client.post(f"/documents/{doc}/codings/{co}", data={"decision": "accept", "csrf_token": token})
    assert str(info["es"]["segment_id"]) not in re.findall(r'<li data-segment="(\d+)">', client.get("/queue").text)
    book = client.get("/codebook").text
    assert "The ES works on site with the team." in book and "Home working because of Covid" in book
    entry = re.search(r'id="code-co_location".*?<span class="count"[^>]*>(\d+)', book, re.S).group(1)
    parent = re.search(r'id="code-integration".*?<span class="count"[^>]*>(\d+) \((\d+)\)', book, re.S).groups()
    assert entry == "1" and parent == ("0", "1")
    matrix = client.get("/matrix").text
    row = re.search(r'<tr data-code="integration">(.*?)</tr>', matrix, re.S).group(1)
    assert 'href="/quotes?code=integration&amp;site=Site+A">1</a>' in row
    quotes = client.get("/quotes?code=integration&site=Site+A").text
    assert "I sit with the team <mark>three days a week</mark>, so referrals" in quotes  # the accepted span
    assert "(IPS ES, Site A)" in quotes and "Interviewer" not in quotes
    assert "No accepted quotes" in client.get("/quotes?code=integration&site=Site+B").text
    assert "No accepted quotes" in client.get("/quotes?code=outcomes").text


def test_the_app_works_on_each_backend(backend_url: str, tiny_codebook, transcripts: Path) -> None:  # noqa: ANN001
    from qualcode.web.app import create_app

    info = build_project(backend_url, tiny_codebook, transcripts)
    app = create_app(backend_url, secret_key=b"k")
    client = app.test_client()
    token = login(client, "carol")
    doc, co = info["docs"]["site_a_es.txt"], info["codings"]["co_location"]
    assert "three days a week" in client.get(f"/documents/{doc}").text
    assert client.post(f"/documents/{doc}/codings/{co}", data={"decision": "accept", "csrf_token": token}).status_code == 302
    app.extensions["qualcode"].store.close()
    assert {(r["code"], r["decided_by"]) for r in rows(backend_url, status="accepted")} == {("co_location", "carol")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise AssertionError(f"qualcode serve exited: {proc.stderr.read()}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2"])
def test_serve_command_binds_and_guards(project, host: str) -> None:  # noqa: ANN001
    port = _free_port()
    exe = Path(sys.executable).with_name("qualcode")
    proc = subprocess.Popen([str(exe), "--project", project[0], "serve", "--host", host, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        base = f"http://{host}:{port}"
        _wait_for(base + "/coder", proc)
        banner = proc.stdout.readline() + proc.stdout.readline()
        if host == "127.0.0.1":
            assert f"Open {base}/ " in banner
            assert urllib.request.urlopen(base + "/coder").status == 200
        else:
            token = re.search(r"\?token=(\S+)", banner).group(1)
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(base + "/coder")
            assert refused.value.code == 401
            browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())  # keeps the session
            assert browser.open(f"{base}/coder?token={token}").status == 200
            assert browser.open(f"{base}/coder").status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if host != "127.0.0.1":
        assert "warning: serving on 127.0.0.2" in proc.stderr.read()


def test_transcript_asks_the_store_for_its_own_documents_codings_only(app, project, monkeypatch) -> None:  # noqa: ANN001
    from qualcode.web import viewmodel

    calls: list[dict[str, Any]] = []
    real = viewmodel.coding_rows

    def spy(store, **filters):  # noqa: ANN001, ANN003, ANN202
        calls.append(filters)
        return real(store, **filters)

    monkeypatch.setattr(viewmodel, "coding_rows", spy)
    client = app.test_client()
    login(client)
    info = project[1]
    doc = info["docs"]["site_a_client.txt"]
    page = client.get(f"/documents/{doc}").text
    assert calls == [{"all_roles": True, "document_id": doc}]
    assert f'id="c-{info["codings"]["job_start"]}"' in page
    assert f'id="c-{info["codings"]["co_location"]}"' not in page  # another document's suggestion


def reviews_of(path: str) -> set[tuple[int, str]]:
    with Store.open(path) as store:
        return {(s, c) for c in ("alice", "bob") for s in reviewed_segments(store, c)}


def queued(client) -> list[int]:  # noqa: ANN001
    return [int(s) for s in re.findall(r'<li data-segment="(\d+)">', client.get("/queue").text)]


def test_nothing_to_code_here_is_recorded_and_the_queue_skips_the_segment(app, project) -> None:  # noqa: ANN001
    path, info = project
    client = app.test_client()
    token = login(client)
    with Store.open(path) as store:
        segs = store.segment_rows(all_roles=True)
    cafe = next(s for s in segs if "café by café" in s["text"])
    b_client = next(s for s in segs if s["document"] == "site_b_client.vtt" and s["role"] == "client")
    interviewer = next(s for s in segs if s["role"] == "interviewer")
    doc = info["docs"]["site_a_es.txt"]
    url = f"/documents/{doc}/segments/{cafe['segment_id']}/reviewed"
    assert cafe["segment_id"] in queued(client)
    page = client.get(f"/documents/{doc}").text
    assert f'action="{url}" class="nothing"' in page
    assert page.count('class="btn small nothing-btn"') == 2  # the two ES turns, not the interviewer's

    # CSRF-protected like every write, and a coder is needed
    assert client.post(url).status_code == 400
    assert client.post(url, data={"csrf_token": "wrong"}).status_code == 400
    anonymous = app.test_client()
    assert anonymous.post(url, data={"csrf_token": csrf(anonymous)}).status_code == 403
    assert reviews_of(path) == set()

    # the plain form goes back where it was posted from (the queue), never off the site
    resp = client.post(url, data={"csrf_token": token, "next": "/queue?n=20"})
    assert resp.status_code == 302 and resp.location == "/queue?n=20"
    assert reviews_of(path) == {(cafe["segment_id"], "alice")}
    assert cafe["segment_id"] not in queued(client)
    page = client.get(f"/documents/{doc}").text
    assert f'data-nothing="{cafe["segment_id"]}">nothing to code</span>' in page
    assert f'action="{url}"' not in page and page.count('class="btn small nothing-btn"') == 1
    resp = client.post(url, data={"csrf_token": token, "next": "//evil.example/"})
    assert resp.status_code == 302 and resp.location == "/"
    assert reviews_of(path) == {(cafe["segment_id"], "alice")}  # once, however often it is posted

    # the page's fetch gets JSON; without `next` a form goes back to the turn
    bdoc = info["docs"]["site_b_client.vtt"]
    resp = client.post(f"/documents/{bdoc}/segments/{b_client['segment_id']}/reviewed",
                       headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert resp.json == {"segment_id": b_client["segment_id"], "reviewed": True, "coder": "alice"}
    assert b_client["segment_id"] not in queued(client)
    assert reviews_of(path) == {(cafe["segment_id"], "alice"), (b_client["segment_id"], "alice")}
    es = info["es"]
    resp = client.post(f"/documents/{doc}/segments/{es['segment_id']}/reviewed", data={"csrf_token": token})
    assert resp.status_code == 302 and resp.location == f"/documents/{doc}#seg-{es['segment_id']}"
    # open suggestions stay open: this is "no (further) code", not a rejection
    assert {r["code"]: (r["status"], r["decided_by"]) for r in rows(path)} == {
        "co_location": ("suggested", None), "team_exclusion": ("suggested", None), "job_start": ("suggested", None)}
    with Store.open(path) as store, store.read() as conn:
        assert conn.execute(select(func.count()).select_from(coding_events)).scalar_one() == 0

    # interviewer turns, other documents' segments and unknown segments are refused
    resp = client.post(f"/documents/{interviewer['document_id']}/segments/{interviewer['segment_id']}/reviewed",
                       data={"csrf_token": token})
    assert resp.status_code == 400 and "interviewer turns are not coded" in resp.text
    assert client.post(f"/documents/{bdoc}/segments/{cafe['segment_id']}/reviewed",
                       data={"csrf_token": token}).status_code == 404
    assert client.post(f"/documents/{doc}/segments/99999/reviewed", data={"csrf_token": token}).status_code == 404
    assert {s for s, _ in reviews_of(path)} == {cafe["segment_id"], b_client["segment_id"], es["segment_id"]}

    # the same record as the command line's: alice now counts as a coder of those segments
    with Store.open(path) as store:
        assert coders(store) == ["alice"]


def test_the_queue_page_offers_nothing_to_code_for_each_segment(app, project) -> None:  # noqa: ANN001
    client = app.test_client()
    login(client)
    page = client.get("/queue?n=5&strategy=entropy").text
    ids = queued(client)
    assert page.count('class="nothing"') == len(ids) > 0
    assert 'name="next" value="/queue?n=5&amp;strategy=entropy"' in page
    assert "/static/queue.js" in page and client.get("/static/queue.js").status_code == 200


def test_web_views_catch_only_qualcode_errors() -> None:
    """No view swallows every exception: only the app's outermost error handler sees those."""
    import ast

    import qualcode.web

    folder = Path(qualcode.web.__file__).parent
    broad = {"Exception", "BaseException"}
    found = []
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ExceptHandler):
                continue
            types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            names = {t.id if isinstance(t, ast.Name) else getattr(t, "attr", None) for t in types if t is not None}
            if node.type is None or names & broad:
                found.append(f"{path.name}:{node.lineno}")
    assert found == []


def test_transcript_marks_the_words_a_classifier_suggestion_rests_on(app, project) -> None:  # noqa: ANN001
    path, info = project
    es = info["es"]
    word = "three days"
    i = es["text"].index(word)
    evidence = [{"term": word, "matched": word, "span": [es["start"] + i, es["start"] + i + len(word)],
                 "weight": 0.8}]
    with Store.open(path) as store:  # replaces the open classifier suggestion
        store_suggestions(store, [Suggestion(es["segment_id"], "team_exclusion", "classifier", 0.7,
                                             {"model": "tfidf-logreg", "model_id": 2, "score": 0.7,
                                              "threshold": 0.5, "evidence": evidence})], "classifier")
    client = app.test_client()
    login(client)
    page = client.get(f"/documents/{info['docs']['site_a_es.txt']}").text
    marked = re.findall(r'<span data-start="(\d+)" class="hl ([^"]*hl-evidence[^"]*)" data-codings="[^"]+" '
                        r'title="([^"]+)">([^<]+)</span>', page)
    assert [(int(m[0]), m[3]) for m in marked] == [(es["start"] + i, "three days")]
    assert marked[0][2].endswith("evidence for Exclusion from team life")
    assert "words \u201cthree days\u201d" in page  # and the chip says so
