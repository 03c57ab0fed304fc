#!/usr/bin/env python3
"""Benchmark the web app's transcript page: server-side render time of one long interview.

Builds a throwaway SQLite project with the IPS realist codebook, one generated interview
(8,000 words by default, interviewer and ES turns alternating, an emoji here and there)
and 300 stored suggestions on it (two thirds rule suggestions with spans, one third
classifier suggestions on whole turns), then renders /documents/<id> with Flask's test
client: a warm-up, then the median of 20 renders. Target: <= 300 ms.

    .venv/bin/python scripts/bench_web.py [--words 8000] [--suggestions 300] [--renders 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET_MS = 300.0
WORDS = ("team referral employer job support keyworker meeting office desk week client service work "
         "placement interview benefits confidence routine manager clinic appointment caseload rota "
         "training shift contract wellbeing colleague recovery progress plan hours").split()
FILLERS = "and so the a of to in with for that it was we I she they really just um you know".split()
EMOJI = ("😀", "👍", "🙂")


def interview(words: int, seed: int = 1) -> str:
    """A transcript of about ``words`` words: short interviewer questions, long ES answers."""
    rng = random.Random(seed)
    lines, total = [], 0
    while total < words:
        q = " ".join(rng.choice(FILLERS + WORDS) for _ in range(rng.randint(6, 14))).capitalize() + "?"
        sentences = []
        for _ in range(rng.randint(3, 8)):
            s = " ".join(rng.choice(WORDS) if rng.random() < 0.4 else rng.choice(FILLERS)
                         for _ in range(rng.randint(8, 20)))
            if rng.random() < 0.1:
                s += " " + rng.choice(EMOJI)
            sentences.append(s.capitalize() + ".")
        answer = " ".join(sentences)
        lines += [f"Interviewer: {q}", f"IPS ES: {answer}"]
        total += len(q.split()) + len(answer.split())
    return "\n".join(lines) + "\n"


def build(folder: Path, words: int, n_suggestions: int) -> tuple[str, int, dict[str, int]]:
    """The project file, the document id and a summary of what it holds."""
    from qualcode.codebook import default_codebook_path, load_and_validate
    from qualcode.coding.base import Suggestion
    from qualcode.ingest.pipeline import ingest_paths
    from qualcode.store.codings import store_suggestions
    from qualcode.store.repo import Store

    path = folder / "bench_web.db"
    src = folder / "long_interview.txt"
    src.write_text(interview(words), encoding="utf-8")
    rng = random.Random(7)
    with Store.open(path, create=True) as store:
        codebook = load_and_validate(default_codebook_path())
        store.save_codebook(codebook)
        ingest_paths(store, [src], site="Bench site", wave="1")
        doc = store.documents()[0]
        segs = store.segment_rows(document_ids=[doc["id"]])
        codes = [c.id for c in codebook.codes]
        pairs = rng.sample([(s["segment_id"], c) for s in segs for c in codes], n_suggestions)
        by_id = {s["segment_id"]: s for s in segs}
        rules, clf = [], []
        for k, (seg_id, code) in enumerate(pairs):
            seg = by_id[seg_id]
            if k % 3:
                words_at = [m.span() for m in re.finditer(r"\w+(?: \w+){0,2}", seg["text"])]
                a, b = rng.choice(words_at)
                rules.append(Suggestion(seg_id, code, "rule", 0.8, {
                    "rule": f"{code}.bench", "span": [seg["start"] + a, seg["start"] + b],
                    "matched": seg["text"][a:b], "kind": "phrases"}))
            else:
                p = round(rng.uniform(0.5, 0.95), 4)
                clf.append(Suggestion(seg_id, code, "classifier", p, {"model": "classifier", "score": p,
                                                                         "threshold": 0.5}))
        store_suggestions(store, rules, "rule")
        store_suggestions(store, clf, "classifier")
        summary = {"words": doc["word_count"], "segments": len(segs), "suggestions": len(pairs),
                   "codes_in_tree": len(codes)}
    return str(path), doc["id"], summary


def measure(path: str, doc_id: int, renders: int) -> list[float]:
    """Milliseconds for each render of the transcript page (after two warm-up renders)."""
    from qualcode.web.app import create_app

    app = create_app(path, secret_key=b"bench")
    client = app.test_client()
    page = client.get("/coder").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.post("/coder", data={"name": "bench", "csrf_token": token})
    url = f"/documents/{doc_id}"
    for _ in range(2):
        resp = client.get(url)
        assert resp.status_code == 200 and resp.text.count('class="chip ') > 0, resp.status_code
    times = []
    for _ in range(renders):
        t0 = time.perf_counter()
        resp = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200
    app.extensions["qualcode"].store.close()
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--words", type=int, default=8000)
    ap.add_argument("--suggestions", type=int, default=300)
    ap.add_argument("--renders", type=int, default=20)
    ap.add_argument("--json", action="store_true", help="Print the result as one JSON object.")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qualcode-bench-web-") as tmp:
        path, doc_id, summary = build(Path(tmp), args.words, args.suggestions)
        times = measure(path, doc_id, args.renders)
    median = statistics.median(times)
    result = {**summary, "renders": len(times), "median_ms": round(median, 1), "min_ms": round(min(times), 1),
              "max_ms": round(max(times), 1), "target_ms": TARGET_MS, "ok": median <= TARGET_MS}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"transcript page, {summary['words']} words, {summary['segments']} coded turns, "
              f"{summary['suggestions']} suggestions, {summary['codes_in_tree']} codes in the tree:")
        print(f"  median {median:.1f} ms over {len(times)} renders (min {min(times):.1f}, max {max(times):.1f}); "
              f"target <= {TARGET_MS:.0f} ms: {'ok' if result['ok'] else 'SLOWER'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
