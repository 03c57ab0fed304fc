#!/usr/bin/env python3
"""qualcode benchmarks, in named sections. Run by hand (scripts/bench), never in CI.

    scripts/bench [SECTION ...] [--n 250] [--words 8000] [--repeats 3] [--out bench_out]
                  [--scaling 25,250,1000] [--no-peer] [--no-mixed]

With no section, every section runs, in the order listed by ``--list``. Results go to
OUT/results.md (a markdown table, also printed) and OUT/results.json (every repeat, the
medians, the corpus summaries and the machine). Logs of every measured command are in
OUT/logs/.

How things are measured
-----------------------
Every measured command runs in a fresh subprocess, started with ``subprocess.Popen`` and
reaped with ``os.wait4(pid)``. ``wait4`` returns the rusage of that one child (what GNU
``/usr/bin/time -f %M`` reports, without needing the tool): ``ru_maxrss`` is the peak
resident set of the child (or of the largest of its own waited-for children), in KiB on
Linux, and ``ru_utime + ru_stime`` its CPU time. Unlike differences of
``getrusage(RUSAGE_CHILDREN).ru_maxrss``, which is a running maximum over every child the
bench ever reaped and so cannot go down from one run to the next, this is exact per
command. Wall time is ``time.perf_counter()`` around spawn-to-reap. Output goes to log
files, not pipes, so a chatty command cannot block on a full pipe.

The machine is shared and noisy: each measurement is repeated (``--repeats``, default 3)
and the table shows medians. Repeats are interleaved (round 1 runs every command once,
then round 2 ...), so a slow spell hits all of them alike, and ratios are computed from
the medians of the same invocation. CPU seconds are shown beside wall seconds: on a busy
machine CPU time is the steadier of the two.

Words are counted once per corpus, as whitespace-separated tokens of the .txt files
(speaker labels and timestamps included), and every words/s figure divides that same
count, so the figures compare directly.

Adding a section
----------------
Write ``def my_section(b: Bench) -> None`` decorated with ``@section("name", "what")``;
inside, use ``b.corpus(n, words)`` for a cached synthetic corpus, ``b.project(...)`` for an
ingested project, ``b.measure(...)`` / ``b.repeat(...)`` to time commands, ``b.add_row(...)``
for table rows, ``b.add_check(...)`` for target checks, and ``b.notes`` for free text.
The sections rules, train, classifier, report and web live in scripts/bench_assist.py, imported
below so that they register here too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_corpus  # noqa: E402

VENV_PY = ROOT / ".venv" / "bin" / "python"
QUALCODE = ROOT / ".venv" / "bin" / "qualcode"
PEER_PACKAGE = "qualitative-coding"

# Targets for the ingest section (2M words is the default corpus: 250 x 8,000).
TARGET_SECONDS_PER_2M_WORDS = 4.0
TARGET_PEAK_MB = 1024.0
TARGET_PEER_RATIO = 1.0
TARGET_TOKENIZER_RATIO = 0.3


# --------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------

@dataclass
class Run:
    """One measured command."""

    cmd: list[str]
    wall: float
    cpu: float
    peak_mb: float
    returncode: int
    log: str
    extra: dict = field(default_factory=dict)


def measure(cmd: Sequence[str | os.PathLike], *, cwd: Path | None = None, env: dict | None = None,
            log: Path, stdin_text: str | None = None) -> Run:
    """Run ``cmd`` once in a fresh process; wall time, CPU time and peak RSS of that process."""
    cmd = [str(c) for c in cmd]
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        out.write((" ".join(cmd) + "\n").encode())
        out.flush()
        stdin = subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=stdin)
        if stdin_text is not None:
            proc.stdin.write(stdin_text.encode())
            proc.stdin.close()
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    kib = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss / 1024
    return Run(cmd, wall, usage.ru_utime + usage.ru_stime, kib / 1024, proc.returncode, str(log))


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --------------------------------------------------------------------------------------
# The bench: sections, rows, checks
# --------------------------------------------------------------------------------------

Section = Callable[["Bench"], None]
SECTIONS: dict[str, tuple[Section, str]] = {}


def section(name: str, description: str) -> Callable[[Section], Section]:
    def register(fn: Section) -> Section:
        SECTIONS[name] = (fn, description)
        return fn
    return register


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out: Path = args.out.resolve()
        self.out.mkdir(parents=True, exist_ok=True)
        self.logs = self.out / "logs"
        self.work = self.out / "work"
        self.rows: list[dict] = []
        self.checks: list[dict] = []
        self.notes: list[str] = []
        self.extra_md: list[str] = []
        self.corpora: dict[str, dict] = {}
        self.raw: dict[str, list[dict]] = {}
        self.env = dict(os.environ)
        self.env.pop("QUALCODE_PROJECT", None)
        self.env["PYTHONHASHSEED"] = "0"
        self.env["TERM"] = "dumb"
        self._counter = 0

    # -- output --------------------------------------------------------------------------
    def log(self, msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    def add_row(self, section: str, name: str, *, runs: Sequence[Run] | None = None, seconds: float | None = None,
                words: int | None = None, note: str = "", **extra) -> dict:
        """A table row: median wall/CPU seconds and peak MB of ``runs`` (or a given ``seconds``)."""
        row: dict = {"section": section, "measurement": name, "repeats": len(runs) if runs else None}
        if runs:
            row["seconds"] = median([r.wall for r in runs])
            row["cpu_seconds"] = median([r.cpu for r in runs])
            row["peak_mb"] = max(r.peak_mb for r in runs)
            row["seconds_all"] = [round(r.wall, 3) for r in runs]
            self.raw[f"{section}/{name}"] = [asdict(r) for r in runs]
        elif seconds is not None:
            row["seconds"] = seconds
        if words and row.get("seconds"):
            row["words"] = words
            row["words_per_s"] = words / row["seconds"]
            row["s_per_mword"] = row["seconds"] / (words / 1e6)
        row["note"] = note
        row.update(extra)
        self.rows.append(row)
        return row

    def add_check(self, what: str, value: float, target: str, ok: bool | None, detail: str = "") -> None:
        self.checks.append({"check": what, "value": value, "target": target, "ok": ok, "detail": detail})

    # -- helpers for sections ------------------------------------------------------------
    def corpus(self, n: int, words: int, mixed: bool = False) -> tuple[Path, dict]:
        files, meta = bench_corpus.ensure_corpus(self.out, n, words, mixed=mixed, log=self.log)
        self.corpora[files.parent.name] = meta
        return files, meta

    def fresh_dir(self, stem: str) -> Path:
        self._counter += 1
        d = self.work / f"{stem}-{self._counter}"
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        return d

    def run(self, name: str, cmd: Sequence, *, cwd: Path | None = None, check: bool = True,
            stdin_text: str | None = None) -> Run:
        """Measure one command; its output goes to OUT/logs/NAME.log (the last repeat's)."""
        r = measure(cmd, cwd=cwd, env=self.env, log=self.logs / f"{name}.log", stdin_text=stdin_text)
        if check and r.returncode != 0:
            tail = Path(r.log).read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name}: exit status {r.returncode}\n{tail}")
        return r

    def project(self, name: str, corpus: Path, *, unit: str = "turn", manifest: Path | None = None,
                roles: Path | None = None) -> Path:
        """An ingested project (``qualcode init`` + ``ingest``, not timed) under OUT/work, made
        once per run and name; returns the project file. Copy it before changing it."""
        db = self.work / "projects" / name / "bench.db"
        if db.exists():
            return db
        db.parent.mkdir(parents=True, exist_ok=True)
        cmd = [QUALCODE, "--project", db, "ingest", corpus, "--unit", unit]
        cmd += ["--manifest", manifest] if manifest else []
        cmd += ["--roles", roles] if roles else []
        for step, args in (("init", [QUALCODE, "--project", db, "init"]), ("ingest", cmd)):
            r = measure(args, env=self.env, log=self.logs / f"project-{name}-{step}.log")
            if r.returncode != 0:
                shutil.rmtree(db.parent, ignore_errors=True)
                raise RuntimeError(f"project {name}: qualcode {step} failed, see {r.log}")
        self.log(f"  project {name}: {corpus} ingested ({r.wall:.1f} s, not timed)")
        return db

    def qualcode_ingest(self, name: str, corpus: Path, unit: str = "turn") -> Run:
        """``qualcode init`` (not timed) then a timed ``qualcode ingest`` into a fresh project."""
        d = self.fresh_dir(name)
        db = d / "bench.db"
        init = measure([QUALCODE, "--project", db, "init"], env=self.env, log=self.logs / f"{name}-init.log")
        if init.returncode != 0:
            raise RuntimeError(f"qualcode init failed, see {init.log}")
        try:
            r = self.run(name, [QUALCODE, "--project", db, "ingest", corpus, "--unit", unit])
            r.extra["init_seconds"] = init.wall
            r.extra["db_mb"] = sum(p.stat().st_size for p in d.iterdir()) / 2**20
            last = Path(r.log).read_text(errors="replace").strip().splitlines()[-1]
            r.extra["summary"] = last  # "250 files: 250 ingested"
            if not re.match(r"\d+ files: \d+ ingested$", last):
                raise RuntimeError(f"{name}: not every file was ingested: {last} (see {r.log})")
        finally:
            shutil.rmtree(d, ignore_errors=True)
        return r


# --------------------------------------------------------------------------------------
# Section: startup
# --------------------------------------------------------------------------------------

@section("startup", "qualcode --help and a bare interpreter start, median of 5")
def startup(b: Bench) -> None:
    runs_help, runs_py, runs_version = [], [], []
    for _ in range(5):
        runs_py.append(b.run("startup-python", [VENV_PY, "-c", "pass"]))
        runs_help.append(b.run("startup-help", [QUALCODE, "--help"]))
        runs_version.append(b.run("startup-version", [QUALCODE, "--version"]))
    b.add_row("startup", "python -c pass (venv interpreter)", runs=runs_py)
    b.add_row("startup", "qualcode --help", runs=runs_help)
    b.add_row("startup", "qualcode --version", runs=runs_version)


# --------------------------------------------------------------------------------------
# Section: ingest
# --------------------------------------------------------------------------------------

TOKENIZER_SCRIPT = r"""
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
import spacy
nlp = spacy.blank("en")
t1 = time.perf_counter()
texts = [p.read_text(encoding="utf-8") for p in sorted(Path(sys.argv[1]).glob("*.txt"))]
t2 = time.perf_counter()
tokens = 0
for doc in nlp.pipe(texts):
    tokens += len(doc)
t3 = time.perf_counter()
json.dump({"import_seconds": t1 - t0, "read_seconds": t2 - t1, "tokenize_seconds": t3 - t2,
           "tokens": tokens, "files": len(texts)}, sys.stdout)
"""


def peer_qc(b: Bench) -> tuple[Path | None, str]:
    """The peer's ``qc`` in its own throwaway venv (OUT/peer_venv), created once."""
    venv = b.out / "peer_venv"
    qc = venv / "bin" / "qc"
    if not qc.exists():
        b.log(f"installing the peer ({PEER_PACKAGE}, from PyPI) into {venv} ...")
        base = getattr(sys, "_base_executable", None) or shutil.which("python3") or sys.executable
        try:
            subprocess.run([base, "-m", "venv", "--clear", str(venv)], check=True)
            subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check",
                            PEER_PACKAGE], check=True, capture_output=True, text=True)
        except subprocess.CalledProcessError as exc:
            tail = " ".join((exc.stderr or "").strip().splitlines()[-3:])
            return None, f"could not install {PEER_PACKAGE}: {tail or exc}"
        except OSError as exc:
            return None, f"could not install {PEER_PACKAGE}: {exc}"
        if not qc.exists():
            return None, f"{PEER_PACKAGE} installed but {qc} is missing"
    version = subprocess.run([venv / "bin" / "python", "-c",
                              "from importlib.metadata import version; print(version('qualitative-coding'))"],
                             capture_output=True, text=True).stdout.strip()
    return qc, version


def peer_import(b: Bench, qc: Path, corpus: Path, name: str) -> Run:
    """``qc init`` in a fresh folder (not timed), then a timed ``qc corpus import -r -i verbatim``."""
    d = b.fresh_dir(name)
    # qc init asks nothing when no settings file exists: it writes settings.yaml with the
    # defaults and creates the corpus dir, memos dir and database. stdin is /dev/null anyway.
    init = measure([qc, "init"], cwd=d, env=b.env, log=b.logs / f"{name}-init.log")
    if init.returncode != 0 or not (d / "settings.yaml").exists():
        raise RuntimeError(f"qc init failed, see {init.log}")
    try:
        r = b.run(name, [qc, "corpus", "import", "-r", "-i", "verbatim", corpus], cwd=d)
        r.extra["init_seconds"] = init.wall
        import sqlite3

        con = sqlite3.connect(d / "qualitative_coding.sqlite3")
        r.extra["documents"] = con.execute("select count(*) from document").fetchone()[0]
        r.extra["locations"] = con.execute("select count(*) from location").fetchone()[0]
        con.close()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return r


def tokenizer_pass(b: Bench, corpus: Path) -> Run:
    r = b.run("ingest-spacy-tokenizer", [VENV_PY, "-c", TOKENIZER_SCRIPT, corpus])
    text = Path(r.log).read_text().splitlines()[-1]
    r.extra.update(json.loads(text))
    return r


def _parse_scaling(value: str) -> list[int]:
    if value.strip().lower() in ("", "none", "off", "0"):
        return []
    return [int(x) for x in value.split(",") if x.strip()]


@section("ingest", "qualcode ingest (turn, sentence) vs a bare spaCy tokenizer and the peer qc; scaling")
def ingest(b: Bench) -> None:
    a = b.args
    corpus, meta = b.corpus(a.n, a.words)
    words = meta["txt_file_words"]
    mwords = words / 1e6
    qc, peer_version = (None, "skipped (--no-peer)") if a.no_peer else peer_qc(b)

    runs: dict[str, list[Run]] = {"turn": [], "sentence": [], "tok": [], "peer": []}
    for rnd in range(a.repeats):
        b.log(f"ingest: round {rnd + 1}/{a.repeats} ({a.n} interviews, {words:,} words)")
        runs["turn"].append(b.qualcode_ingest("ingest-qualcode-turn", corpus, "turn"))
        b.log(f"  qualcode turn      {runs['turn'][-1].wall:7.2f} s  {runs['turn'][-1].peak_mb:6.0f} MB")
        runs["sentence"].append(b.qualcode_ingest("ingest-qualcode-sentence", corpus, "sentence"))
        b.log(f"  qualcode sentence  {runs['sentence'][-1].wall:7.2f} s  {runs['sentence'][-1].peak_mb:6.0f} MB")
        runs["tok"].append(tokenizer_pass(b, corpus))
        b.log(f"  spaCy tokenizer    {runs['tok'][-1].extra['tokenize_seconds']:7.2f} s (pass only)")
        if qc is not None:
            try:
                runs["peer"].append(peer_import(b, qc, corpus, "ingest-peer-qc"))
            except RuntimeError as exc:  # the peer failing must not lose qualcode's figures
                peer_version = f"failed: {str(exc).splitlines()[0]}"
                qc = None
                runs["peer"] = []
                continue
            b.log(f"  peer qc import     {runs['peer'][-1].wall:7.2f} s  {runs['peer'][-1].peak_mb:6.0f} MB")

    label = f"{a.n} x {a.words} words"
    turn = b.add_row("ingest", f"qualcode ingest --unit turn ({label})", runs=runs["turn"], words=words,
                     note=f"{runs['turn'][-1].extra['summary']}; init not timed "
                          f"({median([r.extra['init_seconds'] for r in runs['turn']]):.2f} s); "
                          f"db {runs['turn'][-1].extra['db_mb']:.0f} MB")
    sent = b.add_row("ingest", f"qualcode ingest --unit sentence ({label})", runs=runs["sentence"], words=words,
                     note=f"db {runs['sentence'][-1].extra['db_mb']:.0f} MB")
    tok_pass = median([r.extra["tokenize_seconds"] for r in runs["tok"]])
    b.add_row("ingest", "spaCy blank('en') nlp.pipe, tokenizer pass only", seconds=tok_pass, words=words,
              note=f"{runs['tok'][-1].extra['tokens']:,} tokens; whole process incl. import and reading: "
                   f"{median([r.wall for r in runs['tok']]):.2f} s, {max(r.peak_mb for r in runs['tok']):.0f} MB")
    peer = None
    if runs["peer"]:
        p = runs["peer"][-1].extra
        peer = b.add_row("ingest", f"peer: qc corpus import -r -i verbatim ({PEER_PACKAGE} {peer_version})",
                         runs=runs["peer"], words=words,
                         note=f"{p['documents']} documents, {p['locations']:,} paragraph locations; qc init not timed")
    else:
        b.notes.append(f"peer not measured: {peer_version}")

    # Nice-to-have: the same interviews with ~10% .vtt and ~5% .docx (the peer imports text only).
    if not a.no_mixed:
        mixed, mmeta = b.corpus(a.n, a.words, mixed=True)
        mruns = []
        for _ in range(a.repeats):
            mruns.append(b.qualcode_ingest("ingest-qualcode-turn-mixed", mixed, "turn"))
        fm = mmeta["formats"]
        b.add_row("ingest", f"qualcode ingest --unit turn, mixed formats ({label})", runs=mruns,
                  words=mmeta["content_words"],
                  note=f"{fm.get('txt', 0)} txt, {fm.get('vtt', 0)} vtt, {fm.get('docx', 0)} docx; "
                       "words/s over spoken words only")

    # Checks against the targets, from the medians above (same invocation).
    t2m = turn["seconds"] * 2.0 / mwords
    near_2m = abs(mwords - 2.0) <= 0.5  # the target is for the default 2M-word corpus; start-up skews others
    b.add_check("qualcode turn ingest, seconds per 2M words", t2m, f"<= {TARGET_SECONDS_PER_2M_WORDS:g}",
                (t2m <= TARGET_SECONDS_PER_2M_WORDS) if near_2m else None,
                f"{turn['seconds']:.2f} s for {words:,} words" + ("" if near_2m else "; target is for ~2M words"))
    peak = max(turn["peak_mb"], sent["peak_mb"])
    b.add_check("qualcode ingest peak RSS, MB (turn and sentence)", peak, f"<= {TARGET_PEAK_MB:g}",
                peak <= TARGET_PEAK_MB, f"turn {turn['peak_mb']:.0f} MB, sentence {sent['peak_mb']:.0f} MB")
    rounds_tok = [round(t.extra["tokenize_seconds"] / s_.wall, 3) for t, s_ in zip(runs["tok"], runs["sentence"])]
    ratio_tok = tok_pass / sent["seconds"]
    b.add_check("sentence-ingest speed / spaCy tokenizer speed", ratio_tok, f">= {TARGET_TOKENIZER_RATIO:g}",
                ratio_tok >= TARGET_TOKENIZER_RATIO,
                f"{sent['words_per_s']:,.0f} vs {words / tok_pass:,.0f} words/s; per round {rounds_tok}")
    if peer is not None:
        ratio_peer = turn["seconds"] / peer["seconds"]
        rounds_peer = [round(t.wall / p_.wall, 3) for t, p_ in zip(runs["turn"], runs["peer"])]
        b.add_check("qualcode turn-ingest time / peer import time", ratio_peer, f"<= {TARGET_PEER_RATIO:g}",
                    ratio_peer <= TARGET_PEER_RATIO,
                    f"{turn['seconds']:.2f} s vs {peer['seconds']:.2f} s; CPU {turn['cpu_seconds']:.2f} vs "
                    f"{peer['cpu_seconds']:.2f} s; peak {turn['peak_mb']:.0f} vs {peer['peak_mb']:.0f} MB; "
                    f"per round {rounds_peer}")

    # Scaling: turn ingest at several corpus sizes.
    sizes = _parse_scaling(a.scaling)
    points: list[tuple[float, float]] = []
    for n in sizes:
        if n == a.n:
            srow = turn
            smeta = meta
        else:
            scorpus, smeta = b.corpus(n, a.words)
            sruns = []
            for rnd in range(a.repeats):
                sruns.append(b.qualcode_ingest(f"ingest-scaling-{n}", scorpus, "turn"))
                b.log(f"  scaling N={n}: {sruns[-1].wall:7.2f} s  {sruns[-1].peak_mb:6.0f} MB")
            srow = b.add_row("scaling", f"qualcode ingest --unit turn, N={n}", runs=sruns, words=smeta["txt_file_words"])
        mw = smeta["txt_file_words"] / 1e6
        points.append((mw, srow["seconds"]))
        srow_scaled = {"n": n, "mwords": mw, "seconds": srow["seconds"], "seconds_per_mword": srow["seconds"] / mw,
                       "peak_mb": srow["peak_mb"]}
        b.raw.setdefault("scaling", []).append(srow_scaled)
        if n == a.n:
            b.add_row("scaling", f"qualcode ingest --unit turn, N={n}", seconds=srow["seconds"],
                      words=smeta["txt_file_words"], peak_mb=srow["peak_mb"], cpu_seconds=srow["cpu_seconds"],
                      note="same runs as the ingest row")
    if len(points) >= 2:
        xs, ys = zip(*points)
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x in xs)
        intercept = my - slope * mx
        b.notes.append(
            f"scaling fit over N={','.join(map(str, sizes))}: {slope:.2f} s per million words + {intercept:.2f} s "
            "fixed (start-up, project open); linear if the per-million-words figures agree at the larger N"
        )
        b.raw["scaling_fit"] = [{"slope_s_per_mword": slope, "intercept_s": intercept}]


# --------------------------------------------------------------------------------------
# Section: profile of a turn ingest
# --------------------------------------------------------------------------------------

PROFILE_SCRIPT = r"""
import cProfile, pstats, sys
from qualcode.cli import main
prof = cProfile.Profile()
prof.enable()
try:
    main(sys.argv[2:], prog_name="qualcode", standalone_mode=False)
finally:
    prof.disable()
    prof.dump_stats(sys.argv[1])
"""


PHASES_SCRIPT = r"""
# Time the ingest phases without a profiler: wrap a few pipeline functions with perf_counter.
# Names that a refactor removed are skipped (reported as missing), not an error.
import json, sys, time
t_start = time.perf_counter()
import qualcode.ingest.pipeline as P
from qualcode.store.repo import Store
t_imported = time.perf_counter()
acc, calls, missing = {}, {}, []

def wrap(owner, name, key):
    f = getattr(owner, name, None)
    if f is None:
        missing.append(key)
        return
    def timed(*a, **k):
        t = time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            acc[key] = acc.get(key, 0.0) + time.perf_counter() - t
            calls[key] = calls.get(key, 0) + 1
    setattr(owner, name, timed)

wrap(P, "file_hash", "read+hash file (pipeline.file_hash)")
wrap(P, "parse_file", "parse (pipeline.parse_file)")
wrap(P, "build_document", "segment (pipeline.build_document)")
wrap(Store, "document_by_name", "lookup by name (Store.document_by_name)")
wrap(Store, "document_by_hash", "lookup by hash (Store.document_by_hash)")
wrap(Store, "add_document", "write (Store.add_document)")
db, unit, *paths = sys.argv[1:]
t = time.perf_counter()
store = Store.open(db)
t_open = time.perf_counter() - t
t = time.perf_counter()
report = P.ingest_paths(store, paths, unit=unit)
t_ingest = time.perf_counter() - t
json.dump({"imports": t_imported - t_start, "open project": t_open, "ingest_paths": t_ingest,
           "phases": acc, "calls": calls, "missing": missing,
           "segments": sum(f.segments for f in report.files), "files": len(report.files)}, sys.stdout)
"""


def _phases(b: Bench, corpus: Path, unit: str) -> dict:
    d = b.fresh_dir(f"phases-{unit}")
    db = d / "bench.db"
    subprocess.run([QUALCODE, "--project", db, "init"], env=b.env, check=True, capture_output=True)
    try:
        r = b.run(f"profile-phases-{unit}", [VENV_PY, "-c", PHASES_SCRIPT, db, unit, corpus])
    finally:
        shutil.rmtree(d, ignore_errors=True)
    out = json.loads(Path(r.log).read_text().splitlines()[-1])
    out["wall"] = r.wall
    return out


@section("profile", "where ingest time goes: phase timings (turn, sentence) and cProfile (OUT/profile_ingest.txt)")
def profile(b: Bench) -> None:
    import io
    import pstats

    corpus, meta = b.corpus(b.args.n, b.args.words)

    # Phase timings, no profiler overhead: one run per unit (medians would need --repeats runs).
    md = [f"### Ingest phases ({b.args.n} interviews; medians of {b.args.repeats} runs; functions wrapped with "
          "perf_counter, no profiler)", "",
          "| phase | turn s | turn % | sentence s | sentence % |", "|---|---:|---:|---:|---:|"]
    runs_by_unit: dict[str, list[dict]] = {"turn": [], "sentence": []}
    for _ in range(b.args.repeats):
        for unit in runs_by_unit:
            p = _phases(b, corpus, unit)
            flat = {"imports": p["imports"], "open project": p["open project"], **p["phases"]}
            flat["other (in ingest_paths)"] = p["ingest_paths"] - sum(p["phases"].values())
            flat["interpreter start, exit (rest)"] = p["wall"] - sum(flat.values())
            flat["process wall"] = p["wall"]
            flat["_segments"], flat["_missing"] = p["segments"], p["missing"]
            runs_by_unit[unit].append(flat)
    b.raw["phases"] = [runs_by_unit]
    ph = {u: {k: median([r[k] for r in rs]) for k in rs[0] if not k.startswith("_")} for u, rs in runs_by_unit.items()}
    for k in ph["turn"]:
        cells = []
        for unit in ("turn", "sentence"):
            v = ph[unit].get(k)
            cells += ["" if v is None else f"{v:.2f}",
                      "" if v is None else f"{100 * v / ph[unit]['process wall']:.0f}%"]
        md.append(f"| {k} | " + " | ".join(cells) + " |")
    md.append("")
    missing = runs_by_unit["turn"][0]["_missing"]
    md.append(f"Segments: turn {runs_by_unit['turn'][0]['_segments']:,}, sentence "
              f"{runs_by_unit['sentence'][0]['_segments']:,}. Medians are per phase, so they need not add up exactly."
              + (f" Not found (renamed?): {', '.join(missing)}." if missing else ""))
    b.extra_md.append("\n".join(md))

    d = b.fresh_dir("profile")
    db = d / "bench.db"
    stats_file = b.out / "profile_ingest.prof"
    subprocess.run([QUALCODE, "--project", db, "init"], env=b.env, check=True, capture_output=True)
    r = b.run("profile-ingest", [VENV_PY, "-c", PROFILE_SCRIPT, stats_file, "--project", db, "ingest", corpus])
    shutil.rmtree(d, ignore_errors=True)
    b.add_row("profile", f"qualcode ingest --unit turn under cProfile ({b.args.n} x {b.args.words})", runs=[r],
              words=meta["txt_file_words"], note="profiler overhead included; see profile_ingest.txt")
    buf = io.StringIO()
    st = pstats.Stats(str(stats_file), stream=buf)
    st.sort_stats("tottime").print_stats(30)
    st.sort_stats("cumulative").print_stats(45)
    (b.out / "profile_ingest.txt").write_text(buf.getvalue())

    # A compact summary for results.md: the top functions by own time, and big subtrees.
    total = st.total_tt
    entries = []
    for (file, line, fn), (cc, nc, tt, ct, _callers) in st.stats.items():
        entries.append((tt, ct, nc, _short(file, line, fn)))
    top_self = sorted(entries, reverse=True)[:15]
    # Subtrees worth reading: qualcode's own functions, and the libraries' entry points they call
    # (wrappers at ~100% such as click's are left out).
    top_cum = sorted((e for e in entries if "qualcode/" in e[3] and e[1] < 0.99 * total), key=lambda e: -e[1])[:20]
    imports = next((ct for (file, _l, fn), (_cc, _nc, _tt, ct, _c) in st.stats.items()
                    if fn == "_find_and_load"), 0.0)
    md = [f"### Profile: qualcode ingest --unit turn, {b.args.n} interviews (cProfile, {total:.2f} s profiled)", "",
          "| own time s | own % | cumulative s | calls | function |", "|---:|---:|---:|---:|---|"]
    for tt, ct, nc, name in top_self:
        md.append(f"| {tt:.2f} | {100 * tt / total:.0f}% | {ct:.2f} | {nc:,} | `{name}` |")
    md += ["", f"Imports (cumulative `_find_and_load`, may overlap the rows below): {imports:.2f} s "
               f"({100 * imports / total:.0f}%).", "",
           "| cumulative s | cum % | calls | qualcode function (largest subtrees) |", "|---:|---:|---:|---|"]
    for tt, ct, nc, name in top_cum:
        md.append(f"| {ct:.2f} | {100 * ct / total:.0f}% | {nc:,} | `{name}` |")
    b.extra_md.append("\n".join(md))


def _short(file: str, line: int, fn: str) -> str:
    if file == "~":
        return fn
    p = file
    for pattern in (r"site-packages/(.*)$", r"lib/python3\.\d+/(.*)$"):
        m = re.search(pattern, file)
        if m:
            p = m.group(1)
            break
    if "/qualcode/" in file and not p.startswith("qualcode/"):
        p = "qualcode/" + file.split("/qualcode/", 1)[1]
    return f"{p}:{line}({fn})"


# --------------------------------------------------------------------------------------
# Sections in other modules (rules, classifier, report, web: scripts/bench_assist.py)
# --------------------------------------------------------------------------------------

# They register through this module's ``section``; run as a script this module is
# ``__main__``, so it is made importable as ``bench`` too (one SECTIONS, not two).
sys.modules.setdefault("bench", sys.modules[__name__])
import bench_assist  # noqa: E402,F401


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------

def _fmt(v, digits: int = 2) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, float):
        if v != v:
            return ""
        return f"{v:,.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def render_markdown(b: Bench, started: float) -> str:
    a = b.args
    lines = [
        "# qualcode benchmarks", "",
        f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; repeats {a.repeats} (medians); "
        f"sections: {', '.join(a.sections)}", "",
        "| section | measurement | s (median) | CPU s | words/s | peak MB | s per M words | note |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in b.rows:
        lines.append("| " + " | ".join([
            r["section"], r["measurement"], _fmt(r.get("seconds"), 3 if (r.get("seconds") or 9) < 1 else 2),
            _fmt(r.get("cpu_seconds")), _fmt(r.get("words_per_s"), 0), _fmt(r.get("peak_mb"), 0),
            _fmt(r.get("s_per_mword")), r.get("note", ""),
        ]) + " |")
    if b.checks:
        lines += ["", "| target | value | target | met | detail |", "|---|---:|---|---|---|"]
        for c in b.checks:
            ok = "n/a" if c["ok"] is None else ("yes" if c["ok"] else "**NO**")
            lines.append(f"| {c['check']} | {_fmt(c['value'])} | {c['target']} | {ok} | {c['detail']} |")
    if b.corpora:
        lines += ["", "Corpora (bench_out/corpus_N_W*/files, generated by scripts/bench_corpus.py, cached):", ""]
        for name, m in b.corpora.items():
            lines.append(f"- {name}: {m['n']} interviews, {m['txt_file_words']:,} words in .txt files "
                         f"({m['content_words']:,} spoken), {m['txt_bytes'] / 2**20:.1f} MB, formats {m['formats']}")
    if b.notes:
        lines += [""] + [f"- {n}" for n in b.notes]
    for extra in b.extra_md:
        lines += ["", extra]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="scripts/bench",
        description="qualcode benchmarks by section (run by hand, never in CI).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="sections:\n" + "\n".join(f"  {k:<10} {d}" for k, (_f, d) in SECTIONS.items()),
    )
    ap.add_argument("sections", nargs="*", metavar="SECTION", help="sections to run (default: all)")
    ap.add_argument("--n", type=int, default=250, help="interviews in the main corpus (default 250)")
    ap.add_argument("--words", type=int, default=8000, help="words per interview (default 8000)")
    ap.add_argument("--repeats", type=int, default=3, help="repeats per measurement; medians are reported")
    ap.add_argument("--out", type=Path, default=ROOT / "bench_out", help="output directory (default bench_out)")
    ap.add_argument("--scaling", default="25,250,1000",
                    help="corpus sizes N for the turn-ingest scaling rows (default 25,250,1000; 'none' to skip)")
    ap.add_argument("--no-peer", action="store_true", help="skip the peer (qualitative-coding) comparison")
    ap.add_argument("--no-mixed", action="store_true", help="skip the mixed-format (.txt/.vtt/.docx) ingest row")
    ap.add_argument("--list", action="store_true", help="list the sections and exit")
    a = ap.parse_args(argv)
    if a.list:
        for k, (_f, d) in SECTIONS.items():
            print(f"{k:<10} {d}")
        return 0
    unknown = [s for s in a.sections if s not in SECTIONS]
    if unknown:
        ap.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    a.sections = a.sections or list(SECTIONS)
    if a.repeats < 1:
        ap.error("--repeats must be at least 1")
    if not QUALCODE.exists():
        ap.error(f"{QUALCODE} not found: run scripts/bench, which sets up the venv")

    b = Bench(a)
    started = time.time()
    failed = []
    for name in a.sections:
        fn, _d = SECTIONS[name]
        b.log(f"== {name}")
        t0 = time.perf_counter()
        try:
            fn(b)
        except Exception as exc:  # one broken section must not lose the others' results
            failed.append(name)
            b.notes.append(f"section {name} failed: {exc}".splitlines()[0])
            b.log(textwrap.indent(f"{type(exc).__name__}: {exc}", "  "))
        b.log(f"   {name}: {time.perf_counter() - t0:.0f} s")
    shutil.rmtree(b.work, ignore_errors=True)

    md = render_markdown(b, started)
    (b.out / "results.md").write_text(md)
    (b.out / "results.json").write_text(json.dumps({
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "machine": {"node": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()},
        "rows": b.rows, "checks": b.checks, "corpora": b.corpora, "notes": b.notes, "runs": b.raw,
        "failed_sections": failed,
    }, indent=2, default=str))
    print(md)
    b.log(f"wrote {b.out / 'results.md'} and {b.out / 'results.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
