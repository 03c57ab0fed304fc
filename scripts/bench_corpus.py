#!/usr/bin/env python3
"""Synthetic corpus for the benchmarks: IPS process-evaluation interview transcripts.

Deterministic and seeded: interview ``i`` depends only on (seed, i, words), so the
25-interview corpus is the first 25 files of the 250-interview one, and a corpus is
the same on every machine. Nothing is copied from transcripts_example/: sentences are
built combinatorially from small banks of domain phrases (subjects, verbs, objects by
topic, openers, hedges, tails), with disfluencies, transcriber annotations, numbers,
abbreviations ("Dr. Patel", "e.g.") and quoted speech mixed in.

Each interview has an interviewee type (IPS employment specialist, service user, team
leader, care co-ordinator, commissioner, employer, a focus group of service users), a
label style (``Interviewer:``, ``Int:``, ``Q:``/``A:``, ``IPS ES:``, ``Service user 2:``,
``P07:``, first names) and a layout:

* ``colon``      ``Label: text``, long turns go on over continuation lines;
* ``ts``         ``[00:01:23] Label: text``;
* ``ts_paren``   ``Label (00:01:23): text``;
* ``otter``      ``Label  0:01:23`` alone on a line, the words on the lines below;
* ``teams_old``  a timestamp line, a name line, then the words;
* ``bracket``    ``[Interviewer]: text``;
* ``bold``       ``**Interviewer:** text``;

some with a header block (``Site:``, ``Date:``, ``Duration:``) or an Otter footer.

Files are .txt. With ``--mixed`` about 10% of the interviews are written as Teams/Zoom
WebVTT captions and 5% as Word .docx (python-docx, from qualcode's venv), the rest .txt.

    python scripts/bench_corpus.py bench_out/corpus_250_8000 --n 250 --words 8000 [--mixed]

:func:`ensure_corpus` is what scripts/bench.py calls: it writes the corpus once and reuses
it while ``corpus.json`` says it was made with the same parameters and generator version.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

GENERATOR_VERSION = 1
DEFAULT_SEED = 20_251_122

# --------------------------------------------------------------------------------------
# Phrase banks
# --------------------------------------------------------------------------------------

SITES = ["Ashford", "Bexley", "Calderdale", "Dorset", "Enfield", "Fenland", "Gateshead", "Harrow",
         "Ipswich", "Kirklees", "Luton", "Medway", "Norwich", "Oldham", "Plymouth", "Rotherham",
         "Salford", "Thurrock", "Wakefield", "Wirral"]
FIRST_NAMES = ["Sarah", "Daniel", "Priya", "Tom", "Aisha", "Gareth", "Leanne", "Marcus", "Joanne",
               "Kwame", "Ruth", "Imran", "Hannah", "Stuart", "Chloe", "Mohammed", "Bev", "Craig",
               "Nadia", "Owen", "Lucy", "Deepak", "Fiona", "Ryan"]
SURNAMES = ["Patel", "Jones", "Okafor", "Hughes", "Khan", "Walsh", "Murray", "Singh", "Brennan", "Lloyd"]
JOBS = ["a warehouse job", "a part-time job in a café", "a cleaning job", "admin work at the council",
        "a job in retail", "a kitchen porter job", "a role as a support worker", "a delivery driver job",
        "an apprenticeship", "a job at the garden centre", "a receptionist job", "work on a building site",
        "a call-centre job", "a job stacking shelves at night", "a hairdressing job", "a job in a care home"]
EMPLOYERS = ["the supermarket", "a local bakery", "the hospital trust", "a logistics firm", "the council",
             "a small printing company", "a charity shop", "a hotel", "the leisure centre", "a garage"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
NUM_WORDS = ["two", "three", "four", "five", "six", "eight", "ten", "twelve", "fifteen", "twenty"]

TOPICS: dict[str, dict[str, list[str]]] = {
    "referral": {
        "objects": ["the referral form", "referrals from the community team", "the first appointment",
                    "the waiting list", "people who were not sure about work", "the care co-ordinators",
                    "the team meeting", "the eligibility criteria", "zero exclusion", "the referral pathway"],
        "questions": ["how people get referred to the service", "how the first meeting went",
                      "who decides whether someone is ready for work", "what happens after a referral"],
    },
    "job_search": {
        "objects": ["the job search", "my CV", "application forms", "interview practice", "the vacancies",
                    "the job boards", "a cover letter", "what kind of work I wanted", "rapid job search",
                    "people's preferences", "the vocational profile", "voluntary work"],
        "questions": ["how the job search worked in practice", "what kind of work you were looking for",
                      "how quickly you started looking for work", "how you chose which jobs to go for"],
    },
    "employer": {
        "objects": ["employer engagement", "the employer visits", "job carving", "the line manager",
                    "reasonable adjustments", "local businesses", "the job development targets",
                    "the hiring manager", "a trial shift", "the employer network"],
        "questions": ["how you build relationships with employers", "what employers made of the service",
                      "how you approach an employer cold", "whether employers ask about mental health"],
    },
    "benefits": {
        "objects": ["the benefits advice", "Universal Credit", "the better-off calculation", "my work coach",
                    "PIP", "the Jobcentre", "permitted work", "the housing benefit", "the sanctions",
                    "the welfare rights team"],
        "questions": ["how benefits came into the conversation", "whether benefits worries held people back",
                      "how the better-off calculations are done", "how the Jobcentre fitted in"],
    },
    "integration": {
        "objects": ["the clinical team", "the CMHT", "the multidisciplinary meeting", "the care plan",
                    "the psychiatrist", "the clinical record", "a desk in the team base", "the duty system",
                    "the caseload reviews", "the clinicians' expectations"],
        "questions": ["how the ESs fit into the clinical teams", "what the clinicians think of IPS",
                      "how information is shared with the team", "what integration looks like day to day"],
    },
    "fidelity": {
        "objects": ["the fidelity review", "the fidelity scale", "caseload sizes", "the supervision",
                    "the action plan", "the outcome targets", "the dashboard", "the contract monitoring",
                    "the job start figures", "the sustainment data"],
        "questions": ["how the fidelity reviews are used", "what the numbers are telling you",
                      "how the targets affect the work", "how you monitor the service"],
    },
    "in_work": {
        "objects": ["in-work support", "the first few weeks in the job", "the rota", "my confidence",
                    "the travel to work", "disclosure to the employer", "a phased return",
                    "the check-in calls", "the probation period", "my manager at work"],
        "questions": ["what support you had once you started work", "how the first weeks in the job went",
                      "whether you told the employer about your mental health", "how in-work support ends"],
    },
    "funding": {
        "objects": ["the grant funding", "the fixed-term posts", "the business case", "recruitment",
                    "the staff turnover", "the commissioning cycle", "the budget", "mainstream funding",
                    "the board", "the service specification"],
        "questions": ["what the funding position is", "how staff turnover affected the service",
                      "what evidence the board wants", "how the service will be sustained"],
    },
    "wellbeing": {
        "objects": ["my anxiety", "my routine", "the medication", "my mood", "getting out of the house",
                    "my self-esteem", "the hospital admission", "the side effects", "the bad days",
                    "my recovery"],
        "questions": ["how work has affected your wellbeing", "what difference the job made to you",
                      "how you managed the bad days", "what kept you going"],
    },
}
TOPIC_NAMES = list(TOPICS)

SUBJECTS = ["I", "we", "she", "he", "they", "the ES", "my employment specialist", "the team", "the service",
            "my care co-ordinator", "the employer", "the manager", "the clinicians", "the commissioner",
            "the team leader", "everyone", "nobody", "the other ESs", "my mum", "the psychiatrist"]
VERBS = ["helped with", "talked about", "spent a lot of time on", "struggled with", "was really good about",
         "kept going back to", "sorted out", "didn't really get", "worried about", "pushed hard on",
         "was quite honest about", "put a lot of effort into", "never really mentioned", "brought up",
         "was flexible about", "checked in about", "made a plan around", "got stuck on", "was nervous about",
         "learned a lot from", "had to chase", "asked a lot of questions about"]
OPENERS = ["", "", "", "", "So ", "I think ", "Honestly, ", "Um, ", "To be honest, ", "And ", "Well, ",
           "I suppose ", "Yeah, ", "But ", "At first ", "I mean, ", "Looking back, ", "In fairness, ",
           "Obviously ", "What happened was "]
TAILS = ["", "", "", " last year", " every week", ", you know", " in the end", " at the start",
         ", which was good", " if I'm honest", ", and that made a difference", " for a while",
         " most of the time", " before Christmas", " straight away", ", more or less", " quite a bit",
         " when I first started", ", sort of", " over the summer"]
CONNECTIVES = [", and ", ", but ", " because ", ", so ", " and then ", ", although ", " until "]
FILLERS = ["um,", "erm,", "you know,", "like,", "sort of", "I mean,", "kind of"]
ANNOTATIONS = ["[laughs]", "[inaudible]", "[pause]", "[crosstalk]", "[laughter]", "[name]", "[employer name]"]
SHORT_ANSWERS = ["Yeah.", "Yes.", "Mm-hm.", "Right.", "Yes, definitely.", "Not really.", "No.",
                 "I think so, yeah.", "Absolutely.", "That's right.", "Sort of, yeah.", "Mm.", "OK."]
BACKCHANNELS = ["Mm-hm.", "Mm.", "Yeah.", "Right.", "OK.", "Sure.", "Yes."]
Q_OPENERS = ["Could you tell me a bit about", "Can you say more about", "I'm interested in",
             "Thinking about", "Talk me through", "I wanted to ask about", "Going back to",
             "Could you describe", "Tell me about"]
Q_FOLLOWS = ["What was that like?", "Why do you think that was?", "How did that feel?",
             "Can you give me an example?", "What difference did that make?", "And what happened then?",
             "Was that typical?", "Who else was involved?", "How did you find that?"]
SPECIALS = [
    "It was about {num} weeks before I heard anything.",
    "We're at about {pct} percent job starts, which is roughly where we expected.",
    "The job was {hours} hours a week at £{pay} an hour.",
    "I started at {employer} in {month}.",
    "Dr. {surname} said it might be good for me, e.g. to get some structure back.",
    "Mr {surname} from the Jobcentre rang me on the {day}th.",
    "She said, \"why don't you just give it a go?\" and I thought, well, why not.",
    "I got {job} through the ES.",
    "There were {num_word} of us on the caseload list at one point, i.e. more than the scale allows.",
    "We had the review on {day}/{month_num}/2023 and it came out as good fidelity.",
    "Is that what you mean? I'm not sure I'm answering the question.",
    "The caseload was {caseload}, which is over the twenty the model says.",
    "I'd been out of work for {num_word} years at that point.",
]

# Interviewee types: labels of the interviewee (roles qualcode knows, and some it does not),
# the topics they talk about, and how talkative they are (median words per answer).
INTERVIEWEE_TYPES = {
    "es": (["IPS ES", "ES", "Employment Specialist", "IPS Employment Specialist", "Emp spec", "ES2"],
           ["referral", "job_search", "employer", "benefits", "integration", "fidelity", "in_work"], 110),
    "client": (["Service user", "Client", "Participant", "SU", "P07", "Respondent", "IPS client"],
               ["referral", "job_search", "benefits", "in_work", "wellbeing"], 70),
    "manager": (["Team leader", "IPS manager", "Service manager", "IPS team lead"],
                ["fidelity", "funding", "integration", "employer", "referral"], 120),
    "clinician": (["Care co-ordinator", "CPN", "Clinician", "Psychiatrist", "Keyworker"],
                  ["referral", "integration", "wellbeing", "in_work"], 90),
    "commissioner": (["Commissioner", "Commissioning manager", "LA commissioner", "Public health lead"],
                     ["funding", "fidelity", "integration", "referral"], 120),
    "employer": (["Employer", "Line manager", "Store manager", "HR manager"],
                 ["employer", "in_work", "wellbeing"], 80),
    "focus_group": (["Service user", "P", "Participant"], ["referral", "job_search", "in_work", "wellbeing"], 50),
}
TYPE_WEIGHTS = {"es": 25, "client": 30, "manager": 10, "clinician": 12, "commissioner": 6, "employer": 9,
                "focus_group": 8}
INTERVIEWER_LABELS = ["Interviewer", "Int", "Q", "I", "Researcher", "Evaluator", "Int.", "Facilitator", "IV"]
LAYOUTS = {"colon": 30, "ts": 25, "ts_paren": 8, "otter": 12, "teams_old": 7, "bracket": 8, "bold": 10}


# --------------------------------------------------------------------------------------
# Sentences and turns
# --------------------------------------------------------------------------------------

class _Speech:
    """Sentence and turn maker for one interview (its own seeded RNG and topics)."""

    def __init__(self, rng: random.Random, topics: list[str]) -> None:
        self.rng = rng
        self.topics = topics
        self.topic = rng.choice(topics)

    def _clause(self) -> str:
        r = self.rng
        obj = r.choice(TOPICS[self.topic]["objects"])
        return f"{r.choice(SUBJECTS)} {r.choice(VERBS)} {obj}"

    def _special(self) -> str:
        r = self.rng
        return r.choice(SPECIALS).format(
            num=r.randint(2, 16), pct=r.randint(18, 52), hours=r.choice([8, 12, 16, 20, 25, 30, 37]),
            pay=f"{r.randint(10, 14)}.{r.choice(['00', '20', '42', '50', '90'])}", employer=r.choice(EMPLOYERS),
            month=r.choice(MONTHS), surname=r.choice(SURNAMES), day=r.randint(4, 28), job=r.choice(JOBS),
            num_word=r.choice(NUM_WORDS), month_num=r.randint(1, 12), caseload=r.randint(18, 34),
        )

    def statement(self) -> str:
        r = self.rng
        x = r.random()
        if x < 0.07:
            return self._special()
        if x < 0.10:
            return r.choice(SHORT_ANSWERS)
        body = self._clause()
        if r.random() < 0.35:
            body += r.choice(CONNECTIVES) + self._clause()
        words = body.split(" ")
        if r.random() < 0.25 and len(words) > 3:
            words.insert(r.randint(1, len(words) - 1), r.choice(FILLERS))
        sentence = r.choice(OPENERS) + " ".join(words) + r.choice(TAILS)
        sentence = sentence[0].upper() + sentence[1:]
        end = "." if r.random() < 0.93 else ("?" if r.random() < 0.5 else "...")
        sentence += end
        if r.random() < 0.03:
            sentence += " " + r.choice(ANNOTATIONS)
        return sentence

    def answer(self, median_words: int) -> list[str]:
        """A respondent turn as paragraphs (lists of sentences joined)."""
        r = self.rng
        if r.random() < 0.08:
            self.topic = r.choice(self.topics)
        if r.random() < 0.1:
            return [r.choice(SHORT_ANSWERS)]
        target = max(8, min(700, int(r.lognormvariate(0, 0.7) * median_words)))
        paragraphs: list[str] = []
        sentences: list[str] = []
        n = 0
        per_para = r.randint(3, 7)
        while n < target:
            s = self.statement()
            sentences.append(s)
            n += s.count(" ") + 1
            if len(sentences) >= per_para and n < target:
                paragraphs.append(" ".join(sentences))
                sentences, per_para = [], r.randint(3, 7)
        if sentences:
            paragraphs.append(" ".join(sentences))
        return paragraphs

    def question(self) -> str:
        r = self.rng
        x = r.random()
        if x < 0.25:
            return r.choice(Q_FOLLOWS)
        if x < 0.35:
            self.topic = r.choice(self.topics)
        text = f"{r.choice(Q_OPENERS)} {r.choice(TOPICS[self.topic]['questions'])}?"
        if r.random() < 0.3:
            text = r.choice(["OK. ", "Thanks. ", "Right, that's really helpful. ", "Great. ", "Mm-hm. "]) + text
        if r.random() < 0.2:
            text += " " + r.choice(Q_FOLLOWS)
        return text


def _clock(seconds: float, short: bool = False) -> str:
    s = int(seconds)
    if short:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def interview(i: int, words: int, seed: int = DEFAULT_SEED) -> dict:
    """Interview ``i``: its metadata and turns [(label, [paragraphs], start_seconds)]."""
    rng = random.Random(f"{seed}:{i}:{words}")
    kind = rng.choices(list(TYPE_WEIGHTS), weights=list(TYPE_WEIGHTS.values()))[0]
    labels, topics, median = INTERVIEWEE_TYPES[kind]
    interviewer = rng.choice(INTERVIEWER_LABELS)
    if kind == "focus_group":
        base = rng.choice(labels + ["first names"])
        people = rng.sample(FIRST_NAMES, rng.randint(3, 5)) if base == "first names" else [
            f"{base}{'' if base == 'P' else ' '}{k}" for k in range(1, rng.randint(3, 5) + 1)]
    elif rng.random() < 0.15:
        people = [rng.choice(FIRST_NAMES)]
        interviewer = rng.choice([interviewer, f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"])
    else:
        people = [rng.choice(labels)]
        if interviewer == "Q" and rng.random() < 0.5:
            people = ["A"]
    speech = _Speech(rng, topics)
    turns: list[tuple[str, list[str], float]] = []
    clock = rng.uniform(2, 15)
    n = 0
    while n < words:
        q = speech.question()
        turns.append((interviewer, [q], clock))
        clock += q.count(" ") / 2.6 + rng.uniform(1, 5)
        speaker = rng.choice(people)
        parts = rng.choice([1, 1, 1, 2]) if len(people) == 1 else rng.randint(1, 3)
        for part in range(parts):
            paras = speech.answer(median)
            turns.append((speaker, paras, clock))
            wc = sum(p.count(" ") + 1 for p in paras)
            n += wc
            clock += wc / 2.6 + rng.uniform(0.5, 3)
            if part + 1 < parts:
                if len(people) == 1:  # "Mm-hm." from the interviewer, and the answer goes on
                    turns.append((interviewer, [rng.choice(BACKCHANNELS)], clock))
                    clock += rng.uniform(0.5, 2)
                else:  # the next person in the focus group
                    speaker = rng.choice([p for p in people if p != speaker])
        n += q.count(" ") + 1
    return {
        "index": i,
        "kind": kind,
        "site": SITES[i % len(SITES)],
        "interviewer": interviewer,
        "people": people,
        "layout": rng.choices(list(LAYOUTS), weights=list(LAYOUTS.values()))[0],
        "header": rng.random() < 0.3,
        "footer": rng.random() < 0.05,
        "blank_between": rng.random() < 0.5,
        "turns": turns,
        "rng_state": rng.random(),
    }


def file_stem(iv: dict) -> str:
    return f"{iv['site'].lower()}_{iv['kind']}_{iv['index'] + 1:04d}"


# --------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------

def render_txt(iv: dict) -> str:
    rng = random.Random(iv["rng_state"])
    layout = iv["layout"]
    out: list[str] = []
    if iv["header"]:
        out.append(f"Transcript: {iv['site']} {iv['kind'].replace('_', ' ')} interview")
        out.append(f"Date: {rng.randint(1, 28)}/{rng.randint(1, 12)}/2023")
        if rng.random() < 0.5:
            out.append(f"Site: {iv['site']}")
        out.append(f"Duration: {int(iv['turns'][-1][2] // 60) + 1} minutes")
        out.append("")
    sep = "\n" if iv["blank_between"] or layout in ("otter", "teams_old") else ""
    for label, paras, t in iv["turns"]:
        first, rest = paras[0], paras[1:]
        if layout == "colon":
            lines = [f"{label}: {first}"]
        elif layout == "ts":
            lines = [f"[{_clock(t)}] {label}: {first}"]
        elif layout == "ts_paren":
            lines = [f"{label} ({_clock(t)}): {first}"]
        elif layout == "otter":
            lines = [f"{label}  {_clock(t, short=True)}", first]
        elif layout == "teams_old":
            lines = [_clock(t), label, first]
        elif layout == "bracket":
            lines = [f"[{label}]: {first}"]
        else:  # bold
            lines = [f"**{label}:** {first}"]
        for p in rest:
            if rng.random() < 0.3 and layout not in ("otter", "teams_old"):
                lines.append("")  # a blank line inside a turn: the next paragraph continues it
            lines.append(p)
        out.append("\n".join(lines))
        if sep:
            out.append("")
    if iv["footer"]:
        out.append("Transcribed by https://otter.ai")
    return "\n".join(out).rstrip("\n") + "\n"


def _cue_id(rng: random.Random) -> str:
    h = "%032x" % rng.getrandbits(128)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}/{rng.randint(10, 99)}-0"


def render_vtt(iv: dict) -> str:
    """Teams (``<v Name>`` voice tags, uuid cue ids) or Zoom (``Name: text``, numbered) captions."""
    rng = random.Random(iv["rng_state"])
    teams = rng.random() < 0.7
    out = ["WEBVTT", ""]
    number = 0
    for label, paras, t in iv["turns"]:
        sentences = " ".join(paras).replace(". ", ".\x00").replace("? ", "?\x00").split("\x00")
        k = 0
        while k < len(sentences):
            take = rng.randint(1, 2)
            text = " ".join(sentences[k : k + take])
            k += take
            dur = max(1.0, (text.count(" ") + 1) / 2.6)
            number += 1
            start, end = t, t + dur
            t = end + rng.uniform(0.1, 0.6)
            timing = (f"{_clock(start)}.{int(start * 1000) % 1000:03d} --> "
                      f"{_clock(end)}.{int(end * 1000) % 1000:03d}")
            if teams:
                out += [_cue_id(rng), timing, f"<v {label}>{text}</v>", ""]
            else:
                out += [str(number), timing, f"{label}: {text}", ""]
    return "\n".join(out)


def write_docx(iv: dict, path: Path) -> None:
    """Word transcript: bold ``Label:`` runs, or plain ``Label: text`` paragraphs."""
    from docx import Document

    rng = random.Random(iv["rng_state"])
    bold = rng.random() < 0.6
    doc = Document()
    doc.add_paragraph(f"{iv['site']} {iv['kind'].replace('_', ' ')} interview")
    doc.add_paragraph("")
    for label, paras, _t in iv["turns"]:
        p = doc.add_paragraph()
        if bold:
            p.add_run(f"{label}:").bold = True
            p.add_run(" " + paras[0])
        else:
            p.add_run(f"{label}: {paras[0]}")
        for extra in paras[1:]:
            doc.add_paragraph(extra)
    doc.save(str(path))


def _mixed_format(i: int) -> str:
    return {3: "vtt", 13: "vtt", 7: "docx"}.get(i % 20, "txt")


def _write_one(args: tuple[int, int, int, str, bool]) -> tuple[str, str, int]:
    i, words, seed, out_dir, mixed = args
    iv = interview(i, words, seed)
    fmt = _mixed_format(i) if mixed else "txt"
    path = Path(out_dir) / f"{file_stem(iv)}.{fmt}"
    content_words = sum(p.count(" ") + 1 for _l, paras, _t in iv["turns"] for p in paras)
    if fmt == "txt":
        text = render_txt(iv)
        path.write_text(text, encoding="utf-8")
    elif fmt == "vtt":
        path.write_text(render_vtt(iv), encoding="utf-8")
    else:
        write_docx(iv, path)
    return path.name, fmt, content_words


def generate(out_dir: Path, n: int, words: int, seed: int = DEFAULT_SEED, mixed: bool = False,
             workers: int | None = None) -> dict:
    """Write ``n`` interviews into ``out_dir`` (emptied first) and return the corpus summary."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    t0 = time.perf_counter()
    jobs = [(i, words, seed, str(out_dir), mixed) for i in range(n)]
    workers = workers or (min(os.cpu_count() or 1, 4) if n >= 50 else 1)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(_write_one, jobs, chunksize=8))
    else:
        results = [_write_one(j) for j in jobs]
    formats: dict[str, int] = {}
    for _name, fmt, _w in results:
        formats[fmt] = formats.get(fmt, 0) + 1
    # Words as every tool sees them: whitespace-separated tokens of the .txt files (labels and
    # timestamps included); content words are the spoken words only.
    file_words = file_bytes = 0
    for name, fmt, _w in results:
        if fmt == "txt":
            data = (out_dir / name).read_bytes()
            file_bytes += len(data)
            file_words += len(data.split())
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "n": n,
        "words_per_interview": words,
        "mixed": mixed,
        "formats": formats,
        "content_words": sum(w for _n, _f, w in results),
        "txt_file_words": file_words,
        "txt_bytes": file_bytes,
        "generation_seconds": round(time.perf_counter() - t0, 2),
    }


def ensure_corpus(base: Path, n: int, words: int, seed: int = DEFAULT_SEED, mixed: bool = False,
                  log=print) -> tuple[Path, dict]:
    """The corpus directory ``base/corpus_N_W[_mixed]/files`` and its summary, generated if needed."""
    root = Path(base) / (f"corpus_{n}_{words}" + ("_mixed" if mixed else "") + ("" if seed == DEFAULT_SEED else f"_s{seed}"))
    files = root / "files"
    meta_path = root / "corpus.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if (meta.get("generator_version"), meta.get("seed"), meta.get("n"), meta.get("words_per_interview"),
                meta.get("mixed")) == (GENERATOR_VERSION, seed, n, words, mixed) and files.is_dir():
            return files, meta
    log(f"generating {n} interviews of ~{words} words in {files} ...")
    meta_path.unlink(missing_ok=True)
    meta = generate(files, n, words, seed, mixed)
    meta_path.write_text(json.dumps(meta, indent=2))
    log(f"  done in {meta['generation_seconds']} s ({meta['txt_file_words']:,} words in .txt files)")
    return files, meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="directory to write the transcripts into (emptied first)")
    ap.add_argument("--n", type=int, default=250, help="number of interviews (default 250)")
    ap.add_argument("--words", type=int, default=8000, help="words per interview, about (default 8000)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--mixed", action="store_true", help="about 10%% .vtt and 5%% .docx, the rest .txt")
    args = ap.parse_args(argv)
    meta = generate(args.out, args.n, args.words, args.seed, args.mixed)
    json.dump(meta, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
