"""Benchmark sections for the machine help and the outputs: rules, classifier, report, web.

Imported by scripts/bench.py, whose ``@section`` registers them; run them through it:

    scripts/bench rules train classifier report web [--n 250] [--words 8000] [--repeats 3]

Each measured command runs in a fresh process (``Bench.run``), repeats are interleaved
and the table shows medians, as in the other sections. Set-up (ingesting the corpus,
storing codings, training the model) is done once per run and never timed.

* ``rules``: ``qualcode suggest --method rules`` on a copy of a project ingested from the
  default synthetic corpus (250 x 8,000 words). How many suggestions it makes, per segment
  and per 1,000 spoken words, is set beside the same command on transcripts_example/ (real
  interviews, rules tuned on them) to show the corpus exercises the rules realistically.
* ``train``: ``qualcode train`` on transcripts_example/ with codings_dev_coder_a.csv, by
  default (the policy's fold models in worker processes) and with ``--jobs 1``, taking turns.
* ``classifier``: a model trained on transcripts_example/ with codings_dev_coder_a.csv
  scores 100,000 interview turns of the synthetic generator. Timed inside one process:
  vectorising, scoring the vectorised turns (``scores_from_matrix``), ``suggest`` once
  vectorised (scores, thresholds, ancestors dropped, Suggestion objects) and ``suggest``
  end to end.
* ``report``: the default corpus with a manifest (20 sites, 2 waves) and 50 accepted human
  codings per interview spread over the codes of codebooks/ips_realist.yaml; timed
  ``qualcode matrix --rows codes --cols site --out X.xlsx``, ``qualcode report --out
  report.xlsx`` and ``--out report.html``. A report slower than its target is profiled
  once (OUT/profile_report.txt).
* ``web``: scripts/bench_web.py (the transcript page of an 8,000-word interview with 300
  suggestions, median of 20 renders in one process), once per repeat.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import sys
from pathlib import Path

from bench import PROFILE_SCRIPT, QUALCODE, ROOT, VENV_PY, Bench, Run, median, section  # noqa: I001

EXAMPLE = ROOT / "transcripts_example"
TARGET_RULES_SECONDS = 30.0          # suggest --method rules on ~2M words
TARGET_SCORING_PER_S = 20_000.0      # classifier segments/s once vectorised
TARGET_REPORT_SECONDS = 20.0         # each of matrix .xlsx, report .xlsx, report .html
TARGET_WEB_MS = 300.0                # transcript page render, median
REALISTIC_RATIO = (0.5, 2.0)         # suggestions per 1,000 words, corpus / example
CLASSIFIER_SEGMENTS = 100_000
CODINGS_PER_INTERVIEW = 50


def _near_default(meta: dict) -> bool:
    """The targets are for the default ~2M-word corpus; other sizes are reported, not judged."""
    return abs(meta["txt_file_words"] / 1e6 - 2.0) <= 0.5


def _last_json(run: Run) -> dict:
    return json.loads(Path(run.log).read_text(errors="replace").strip().splitlines()[-1])


def _copy_project(b: Bench, db: Path, stem: str) -> Path:
    d = b.fresh_dir(stem)
    shutil.copy2(db, d / db.name)
    return d / db.name


def _example_project(b: Bench) -> Path:
    return b.project("example", EXAMPLE, manifest=EXAMPLE / "manifest.csv", roles=EXAMPLE / "roles.yaml")


# --------------------------------------------------------------------------------------
# Section: rules
# --------------------------------------------------------------------------------------

def _suggestion_stats(db: Path) -> dict:
    """What the rules suggested in a project: counts, spread over segments and codes."""
    con = sqlite3.connect(db)
    try:
        segs = con.execute("select text from segments where role != 'interviewer'").fetchall()
        rows = con.execute("select c.code, count(*) from codings k join codes c on c.id = k.code_id "
                           "where k.source = 'rule' group by c.code order by 2 desc").fetchall()
        coded = con.execute("select count(distinct segment_id) from codings where source = 'rule'").fetchone()[0]
        n_codes = con.execute("select count(*) from codes where retired_in is null").fetchone()[0]
    finally:
        con.close()
    words = sum(len(t.split()) for (t,) in segs)
    total = sum(n for _c, n in rows)
    return {"suggestions": total, "segments": len(segs), "spoken_words": words,
            "per_segment": total / max(1, len(segs)), "per_1000_words": 1000 * total / max(1, words),
            "segments_with_any": coded / max(1, len(segs)), "codes_hit": len(rows), "codes": n_codes,
            "top_codes": rows[:5]}


def _suggest_rules(b: Bench, name: str, base: Path) -> Run:
    """A timed ``qualcode suggest --method rules`` on a fresh copy of ``base``."""
    db = _copy_project(b, base, name)
    try:
        r = b.run(name, [QUALCODE, "--project", db, "suggest", "--method", "rules"])
        m = re.search(r"rule: (\d+) suggestions stored", Path(r.log).read_text(errors="replace"))
        r.extra["stored"] = int(m.group(1)) if m else None
        r.extra.update(_suggestion_stats(db))
    finally:
        shutil.rmtree(db.parent, ignore_errors=True)
    return r


@section("rules", "qualcode suggest --method rules on the default corpus, beside transcripts_example")
def rules(b: Bench) -> None:
    a = b.args
    corpus, meta = b.corpus(a.n, a.words)
    words = meta["txt_file_words"]
    base = b.project(f"corpus-{a.n}-{a.words}", corpus)
    example = _example_project(b)
    runs: list[Run] = []
    ex_runs: list[Run] = []
    for rnd in range(a.repeats):
        runs.append(_suggest_rules(b, "rules-suggest", base))
        ex_runs.append(_suggest_rules(b, "rules-suggest-example", example))
        b.log(f"rules: round {rnd + 1}/{a.repeats}: {runs[-1].wall:6.2f} s {runs[-1].peak_mb:5.0f} MB "
              f"({runs[-1].extra['suggestions']:,} suggestions); example {ex_runs[-1].wall:5.2f} s")
    s, e = runs[-1].extra, ex_runs[-1].extra
    row = b.add_row("rules", f"qualcode suggest --method rules ({a.n} x {a.words} words)", runs=runs, words=words,
                    note=f"{s['suggestions']:,} suggestions on {s['segments']:,} segments ({s['per_segment']:.2f} per "
                         f"segment, {s['per_1000_words']:.1f} per 1,000 spoken words, {s['segments_with_any']:.0%} of "
                         f"segments with one; {s['codes_hit']} of {s['codes']} codes)")
    ex_words = e["spoken_words"]
    b.add_row("rules", f"same on transcripts_example/ ({len(list(EXAMPLE.glob('*_0[0-9].*')))} interviews)", runs=ex_runs, words=ex_words,
              note=f"{e['suggestions']:,} suggestions on {e['segments']:,} segments ({e['per_segment']:.2f} per "
                   f"segment, {e['per_1000_words']:.1f} per 1,000 spoken words, {e['segments_with_any']:.0%} of "
                   f"segments with one; {e['codes_hit']} of {e['codes']} codes); words/s over spoken words")
    counts = {r.extra["suggestions"] for r in runs}
    if len(counts) != 1:
        b.notes.append(f"rules: the suggestion count differed between repeats: {sorted(counts)}")
    b.notes.append("rules, most suggested codes on the corpus: "
                   + ", ".join(f"{c} {n:,}" for c, n in s["top_codes"])
                   + "; on the example: " + ", ".join(f"{c} {n}" for c, n in e["top_codes"]))
    b.add_check("rules suggest, seconds (default corpus)", row["seconds"], f"<= {TARGET_RULES_SECONDS:g}",
                row["seconds"] <= TARGET_RULES_SECONDS if _near_default(meta) else None,
                f"{row['words_per_s']:,.0f} words/s, CPU {row['cpu_seconds']:.1f} s, peak {row['peak_mb']:.0f} MB, "
                f"per round {[round(r.wall, 2) for r in runs]}"
                + ("" if _near_default(meta) else "; target is for ~2M words"))
    ratio = s["per_1000_words"] / e["per_1000_words"] if e["per_1000_words"] else float("nan")
    lo, hi = REALISTIC_RATIO
    b.add_check("rule suggestions per 1,000 words, corpus / transcripts_example", ratio, f"{lo:g} to {hi:g}",
                lo <= ratio <= hi, f"{s['per_1000_words']:.1f} vs {e['per_1000_words']:.1f}; per segment "
                                   f"{s['per_segment']:.2f} vs {e['per_segment']:.2f}")


# --------------------------------------------------------------------------------------
# Section: classifier
# --------------------------------------------------------------------------------------

CLASSIFIER_SCRIPT = r"""
# Score N interview turns of the synthetic generator with the project's trained classifier.
import json, sys, time
sys.path.insert(0, sys.argv[1])
import bench_corpus
from qualcode.coding import classifier as C
from qualcode.coding.base import SegmentInput
from qualcode.store.repo import Store
from qualcode.workflows.assist import load_classifier

db, n, words = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
t = time.perf_counter()
with Store.open(db) as store:
    model = load_classifier(store)
t_load = time.perf_counter() - t
t = time.perf_counter()
texts, contexts, i = [], [], 0
while len(texts) < n:
    iv = bench_corpus.interview(i, words)
    before = ""
    for label, paras, _t in iv["turns"]:
        if label != iv["interviewer"]:
            texts.append(" ".join(paras))
            contexts.append(before)  # the turn before: what the classifier reads as context
        before = " ".join(paras)
    i += 1
texts, contexts = texts[:n], contexts[:n]
segs = [SegmentInput(id=k + 1, text=s, role="es", document=f"d{k // 100}", site=None, start=0, end=len(s),
                     context=c) for k, (s, c) in enumerate(zip(texts, contexts))]
t_texts = time.perf_counter() - t

# suggest() end to end, its per-chunk vectorise calls timed and their matrices kept
chunks, t_vec = [], 0.0
vectorise = model.vectorise
def timed_vectorise(batch, contexts=None):
    global t_vec
    t0 = time.perf_counter()
    x = vectorise(batch, contexts)
    t_vec += time.perf_counter() - t0
    chunks.append(x)
    return x
model.vectorise = timed_vectorise
t = time.perf_counter()
full = model.suggest(segs)
t_suggest = time.perf_counter() - t
# scoring the vectorised turns: one sparse product per chunk
t = time.perf_counter()
scored = [model.scores_from_matrix(x) for x in chunks]
t_score = time.perf_counter() - t
# suggest() once vectorised: predict_proba's per-chunk vectorise hands back the matrices above
it = iter(chunks)
model.vectorise = lambda _batch, _contexts=None: next(it)
t = time.perf_counter()
pre = model.suggest(segs, evidence=False)
t_suggest_pre = time.perf_counter() - t
assert len(pre) == len(full), (len(pre), len(full))
# and with the evidence every stored suggestion carries (the words behind its score)
it = iter(chunks)
t = time.perf_counter()
told = model.suggest(segs)
t_suggest_evidence = time.perf_counter() - t
assert len(told) == len(full) and all("evidence" in s.provenance for s in told)
json.dump({"segments": len(texts), "interviews": i, "words": sum(len(s.split()) for s in texts),
           "codes": len(model.codes), "features": int(model.coef.shape[0]), "suggestions": len(full),
           "load_seconds": t_load, "texts_seconds": t_texts, "vectorise_seconds": t_vec, "score_seconds": t_score,
           "suggest_vectorised_seconds": t_suggest_pre, "suggest_seconds": t_suggest,
           "suggest_evidence_seconds": t_suggest_evidence,
           "nnz_per_segment": sum(x.nnz for x in chunks) / len(texts)}, sys.stdout)
"""


def _trained_example(b: Bench) -> tuple[Path, Run]:
    """transcripts_example/ with coder A's codings imported and ``qualcode train`` run (timed once)."""
    db = _copy_project(b, _example_project(b), "classifier-project")
    imp = b.run("classifier-import", [QUALCODE, "--project", db, "import", "codings",
                                      EXAMPLE / "codings_dev_coder_a.csv"])
    del imp
    train = b.run("classifier-train", [QUALCODE, "--project", db, "train"])
    return db, train


@section("train", "qualcode train on transcripts_example: worker processes against one process")
def train_jobs(b: Bench) -> None:
    """The same training, by default (fold models in worker processes) and with --jobs 1,
    taking turns, each on its own copy of one project with coder A's codings imported."""
    base = _copy_project(b, _example_project(b), "train-project")
    b.run("train-import", [QUALCODE, "--project", base, "import", "codings",
                           EXAMPLE / "codings_dev_coder_a.csv"])
    runs: dict[str, list[Run]] = {"default": [], "1": []}
    for rnd in range(b.args.repeats):
        for jobs in runs:
            db = _copy_project(b, base, f"train-{jobs}-{rnd}")
            flags = [] if jobs == "default" else ["--jobs", jobs]
            r = b.run(f"train-jobs-{jobs}", [QUALCODE, "--project", db, "train", *flags])
            runs[jobs].append(r)
            b.log(f"train: round {rnd + 1}/{b.args.repeats}, jobs {jobs}: {r.wall:.1f} s")
    fast, slow = (median([r.wall for r in runs[k]]) for k in ("default", "1"))
    b.add_row("train", f"qualcode train, default (up to {os.cpu_count()} worker processes)",
              runs=runs["default"], note=f"{slow / fast:.2f}x faster than --jobs 1, medians of one run")
    b.add_row("train", "qualcode train --jobs 1", runs=runs["1"],
              note="the fold models of the policy's cross-validation one after another")


@section("classifier", f"classifier scoring of {CLASSIFIER_SEGMENTS:,} turns: vectorised, and end to end")
def classifier(b: Bench) -> None:
    a = b.args
    db, train = _trained_example(b)
    first = Path(train.log).read_text(errors="replace").splitlines()[1:2]
    b.add_row("classifier", "qualcode train (transcripts_example, coder A, cold start)", runs=[train],
              note=(first[0].strip() if first else "") + "; once, set-up for the rows below")
    runs: list[Run] = []
    for rnd in range(a.repeats):
        r = b.run("classifier-score", [VENV_PY, "-c", CLASSIFIER_SCRIPT, ROOT / "scripts", db,
                                       CLASSIFIER_SEGMENTS, a.words])
        r.extra.update(_last_json(r))
        runs.append(r)
        x = r.extra
        b.log(f"classifier: round {rnd + 1}/{a.repeats}: vectorise {x['vectorise_seconds']:.2f} s, score "
              f"{x['score_seconds']:.3f} s, suggest (vectorised) {x['suggest_vectorised_seconds']:.3f} s, "
              f"with evidence {x['suggest_evidence_seconds']:.3f} s, "
              f"suggest {x['suggest_seconds']:.2f} s")
    x = runs[-1].extra
    n, words = x["segments"], x["words"]

    def inner(key: str) -> float:
        return median([r.extra[key] for r in runs])

    per_s = {k: n / inner(k) for k in ("vectorise_seconds", "score_seconds", "suggest_vectorised_seconds",
                                       "suggest_seconds", "suggest_evidence_seconds")}
    what = f"{n:,} turns of {words / n:.0f} words on average, {x['codes']} codes, {x['features']:,} features"
    b.add_row("classifier", f"scores_from_matrix, {n:,} vectorised turns", seconds=inner("score_seconds"),
              note=f"{per_s['score_seconds']:,.0f} segments/s; {what}; one sparse product per {4096:,}-turn chunk")
    b.add_row("classifier", f"suggest once vectorised, {n:,} turns", seconds=inner("suggest_vectorised_seconds"),
              note=f"{per_s['suggest_vectorised_seconds']:,.0f} segments/s; scores, threshold 0.5, ancestors "
                   f"dropped, {x['suggestions']:,} Suggestion objects (evidence=False)")
    b.add_row("classifier", f"suggest once vectorised, with evidence, {n:,} turns",
              seconds=inner("suggest_evidence_seconds"),
              note=f"{per_s['suggest_evidence_seconds']:,.0f} segments/s; as above plus the words behind "
                   "each score and their offsets (the default)")
    b.add_row("classifier", f"vectorise (TF-IDF word + char n-grams) within suggest, {n:,} turns",
              seconds=inner("vectorise_seconds"),
              words=words, note=f"{per_s['vectorise_seconds']:,.0f} segments/s; {x['nnz_per_segment']:,.0f} "
                                "non-zero features per turn")
    b.add_row("classifier", f"suggest end to end (vectorise + score), {n:,} turns", seconds=inner("suggest_seconds"),
              words=words, note=f"{per_s['suggest_seconds']:,.0f} segments/s")
    b.add_row("classifier", "whole scoring process (load model, generate turns, the four timings above)",
              runs=runs, note=f"model load {inner('load_seconds'):.2f} s, turns generated in "
                              f"{inner('texts_seconds'):.1f} s ({x['interviews']} interviews)")
    b.add_check("classifier scoring once vectorised, segments/s", per_s["score_seconds"],
                f">= {TARGET_SCORING_PER_S:,.0f}", per_s["score_seconds"] >= TARGET_SCORING_PER_S,
                f"scores_from_matrix on {n:,} turns: {inner('score_seconds'):.3f} s; per round "
                f"{[round(n / r.extra['score_seconds']) for r in runs]}")
    b.add_check("classifier suggest once vectorised (evidence=False), segments/s", per_s["suggest_vectorised_seconds"],
                f">= {TARGET_SCORING_PER_S:,.0f}", per_s["suggest_vectorised_seconds"] >= TARGET_SCORING_PER_S,
                f"{inner('suggest_vectorised_seconds'):.3f} s; end to end with vectorising "
                f"{per_s['suggest_seconds']:,.0f} segments/s")


# --------------------------------------------------------------------------------------
# Section: report
# --------------------------------------------------------------------------------------

CODINGS_SCRIPT = r"""
# Store accepted human codings: PER distinct (segment, code) pairs in every interview, codes
# drawn evenly from the whole codebook (themes and sub-codes), segments at random.
import json, random, sys, time
from collections import defaultdict
from qualcode.store.codings import Decision, apply_decisions
from qualcode.store.repo import Store

db, per, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = time.perf_counter()
rng = random.Random(seed)
with Store.open(db) as store:
    codes = [c.id for c in store.codebook().walk()]
    by_doc = defaultdict(list)
    for s in store.segment_rows():
        by_doc[s["document"]].append(s["segment_id"])
    decisions, reviewed = [], set()
    for doc in sorted(by_doc):
        ids = by_doc[doc]
        pairs = set()
        while len(pairs) < min(per, len(ids) * len(codes)):
            pairs.add((rng.choice(ids), rng.choice(codes)))
        for seg, code in sorted(pairs):
            decisions.append(Decision("add", "coder_a", segment_id=seg, code=code))
        reviewed.update(ids)
    apply_decisions(store, decisions, reviewed=reviewed, reviewer="coder_a")
json.dump({"codings": len(decisions), "documents": len(by_doc), "codes": len(codes),
           "seconds": time.perf_counter() - t}, sys.stdout)
"""


def _manifest(corpus: Path, out: Path) -> Path:
    """file,site,wave,participant for the synthetic files (site from the file name)."""
    lines = ["file,site,wave,participant"]
    for k, path in enumerate(sorted(corpus.glob("*.txt"))):
        site = path.stem.split("_")[0].capitalize()
        lines.append(f"{path.name},{site},{1 + k % 2},P{k + 1:04d}")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def _coded_project(b: Bench, corpus: Path) -> tuple[Path, dict]:
    manifest = _manifest(corpus, b.fresh_dir("report-manifest") / "manifest.csv")
    db = b.project(f"report-{corpus.parent.name}", corpus, manifest=manifest)
    r = b.run("report-store-codings", [VENV_PY, "-c", CODINGS_SCRIPT, db, CODINGS_PER_INTERVIEW, 20251122])
    info = _last_json(r)
    b.log(f"  stored {info['codings']:,} codings on {info['documents']} interviews ({info['seconds']:.1f} s, not timed)")
    return db, info


@section("report", "qualcode matrix (.xlsx) and report (.xlsx, .html): N interviews with 50 codings each")
def report(b: Bench) -> None:
    a = b.args
    corpus, meta = b.corpus(a.n, a.words)
    db, info = _coded_project(b, corpus)
    out = b.fresh_dir("report-out")
    commands = {
        "matrix": ("qualcode matrix --rows codes --cols site --out matrix.xlsx",
                   [QUALCODE, "--project", db, "matrix", "--rows", "codes", "--cols", "site",
                    "--out", out / "matrix.xlsx"]),
        "report-xlsx": ("qualcode report --out report.xlsx", [QUALCODE, "--project", db, "report",
                                                             "--out", out / "report.xlsx"]),
        "report-html": ("qualcode report --out report.html", [QUALCODE, "--project", db, "report",
                                                             "--out", out / "report.html"]),
    }
    runs: dict[str, list[Run]] = {k: [] for k in commands}
    for rnd in range(a.repeats):
        for key, (_label, cmd) in commands.items():
            runs[key].append(b.run(f"report-{key}" if key == "matrix" else key, cmd))
        b.log(f"report: round {rnd + 1}/{a.repeats}: " + ", ".join(f"{k} {v[-1].wall:.2f} s" for k, v in runs.items()))
    sizes = {k: (out / name).stat().st_size for k, name in
             (("matrix", "matrix.xlsx"), ("report-xlsx", "report.xlsx"), ("report-html", "report.html"))}
    log = Path(runs["report-xlsx"][-1].log).read_text(errors="replace")
    included = next((ln.split(":", 1)[1].strip() for ln in log.splitlines() if ln.startswith("sections:")), "?")
    omitted = [ln.strip().removeprefix("not included: ") for ln in log.splitlines() if "not included:" in ln]
    setup = f"{info['codings']:,} accepted codings on {info['documents']} interviews"
    for key, (label, _cmd) in commands.items():
        row = b.add_row("report", f"{label} ({a.n} interviews)", runs=runs[key],
                        note=_size(sizes[key]) + (f"; {setup}" if key == "matrix" else ""))
        judged = _near_default(meta) and a.n == 250
        b.add_check(f"{label}, seconds", row["seconds"], f"<= {TARGET_REPORT_SECONDS:g}",
                    row["seconds"] <= TARGET_REPORT_SECONDS if judged else None,
                    f"CPU {row['cpu_seconds']:.1f} s, peak {row['peak_mb']:.0f} MB, per round "
                    f"{[round(r.wall, 2) for r in runs[key]]}" + ("" if judged else "; target is for 250 x 8,000"))
    b.notes.append(f"report sections: {included}" + (f"; not included: {'; '.join(omitted)}" if omitted else ""))
    slow = max(median([r.wall for r in runs[k]]) for k in ("report-xlsx", "report-html"))
    if slow > TARGET_REPORT_SECONDS:
        _profile_report(b, db, out)


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.0f} KB"


def _profile_report(b: Bench, db: Path, out: Path) -> None:
    """One report under cProfile: the top functions to OUT/profile_report.txt."""
    import io
    import pstats

    stats_file = b.out / "profile_report.prof"
    b.run("report-profile", [VENV_PY, "-c", PROFILE_SCRIPT, stats_file, "--project", db, "report",
                             "--out", out / "profiled.xlsx"])
    buf = io.StringIO()
    st = pstats.Stats(str(stats_file), stream=buf)
    st.sort_stats("cumulative").print_stats(60)
    st.sort_stats("tottime").print_stats(30)
    (b.out / "profile_report.txt").write_text(buf.getvalue())
    b.notes.append(f"report slower than {TARGET_REPORT_SECONDS:g} s: profile in {b.out / 'profile_report.txt'}")


# --------------------------------------------------------------------------------------
# Section: web
# --------------------------------------------------------------------------------------

@section("web", "web transcript page: scripts/bench_web.py (8,000 words, 300 suggestions), median render")
def web(b: Bench) -> None:
    a = b.args
    runs: list[Run] = []
    for rnd in range(a.repeats):
        r = b.run("web-transcript-page", [VENV_PY, ROOT / "scripts" / "bench_web.py", "--json"])
        r.extra.update(_last_json(r))
        runs.append(r)
        b.log(f"web: round {rnd + 1}/{a.repeats}: median {r.extra['median_ms']:.1f} ms")
    x = runs[-1].extra
    ms = median([r.extra["median_ms"] for r in runs])
    b.add_row("web", f"transcript page render, median of {x['renders']} renders (median over processes)",
              seconds=ms / 1000, note=f"{x['words']:,} words, {x['segments']} turns, {x['suggestions']} suggestions; "
                                      f"per process {[r.extra['median_ms'] for r in runs]} ms")
    b.add_row("web", "bench_web.py process (build project, warm-up, renders)", runs=runs)
    b.add_check("web transcript page, median ms", ms, f"<= {TARGET_WEB_MS:g}", ms <= TARGET_WEB_MS,
                f"min {min(r.extra['min_ms'] for r in runs):.1f} ms, max {max(r.extra['max_ms'] for r in runs):.1f} ms")


if __name__ == "__main__":
    sys.exit("run these sections through scripts/bench (scripts/bench.py): scripts/bench rules classifier report web")
