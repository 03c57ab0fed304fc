"""Measure rules, classifier and both together against held-out human gold coding.

Dev part: berkshire_*, bradford_*, northants_*, wiltshire_* (coded by coder_a; the rules
were tuned on these). Held-out part: lincolnshire_*, luton_* (coded by gold; never looked
at when writing rules). The classifier is trained on the dev part only. Scores are per
top-level theme (a sub-code counts for its theme), beside a naive baseline: a code is
suggested when all the words of its name appear in the segment.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from qualcode.analysis.agreement import agreement_presence, precision_recall, roll_up
from qualcode.coding.base import SegmentInput, Suggestion
from qualcode.coding.imports import import_codings
from qualcode.ingest.pipeline import ingest_paths
from qualcode.store.codings import coder_codings
from qualcode.store.repo import Store
from qualcode.workflows.assist import human_examples, segment_inputs

REPO = Path(__file__).resolve().parent.parent
EX = REPO / "transcripts_example"
HELD_OUT = ("lincolnshire_", "luton_")
METHODS = ["baseline", "rules", "classifier", "rules+classifier", "union"]
STOP = {"the", "and", "of", "with", "to", "a", "in", "for", "by", "on", "or", "an", "es"}


def baseline(codebook, segs: list[SegmentInput]) -> list[Suggestion]:  # noqa: ANN001
    """A code fires when every content word of its name (or id) is in the segment."""
    out = []
    words_of = {}
    for code in codebook.codes:
        words = {w for w in re.findall(r"[a-z]+", f"{code.name} {code.id.replace('_', ' ')}".lower()) if w not in STOP}
        words_of[code.id] = {w for w in re.findall(r"[a-z]+", code.name.lower()) if w not in STOP} or words
    for s in segs:
        tokens = set(re.findall(r"[a-z]+", s.text.lower()))
        for code, words in words_of.items():
            if words and words <= tokens:
                out.append(Suggestion(s.id, code, "baseline", 1.0, {}))
    return out


def _later(document: str) -> bool:
    """A dev interview added after the rules were written (numbered _09 and up)."""
    return int(Path(document).stem.rsplit("_", 1)[1]) > 8


def frame_of(suggestions: list[Suggestion], coder: str) -> pd.DataFrame:
    return pd.DataFrame([(s.segment_id, coder, s.code) for s in suggestions], columns=["unit", "coder", "code"])


def score(frames: list[pd.DataFrame], gold: pd.DataFrame, parent_of, tops, held) -> pd.DataFrame:  # noqa: ANN001
    """precision/recall/F1/kappa per top-level theme of each predicted coder against gold."""
    rows = []
    for frame in frames:
        name = frame.coder.iloc[0] if len(frame) else "empty"
        both = roll_up(pd.concat([frame, gold], ignore_index=True), parent_of, "top")
        table = precision_recall(both, name, "gold", tops, coverage={name: held, "gold": held})
        table.insert(0, "method", name)
        rows.append(table)
    return pd.concat(rows, ignore_index=True)


def setup(tmp: Path) -> dict:
    """A project in ``tmp`` with the example corpus, coder_a's dev codings and the held-out
    gold, and what the measurements need from it (the store is closed again)."""
    from qualcode.codebook import load_and_validate
    from qualcode.coding import classifier as clf
    from qualcode.coding.rules import RuleAssistant

    store = Store.open(tmp / "quality.db", create=True)
    codebook = load_and_validate(REPO / "codebooks" / "ips_realist.yaml")
    store.save_codebook(codebook)
    report = ingest_paths(store, [EX], manifest=EX / "manifest.csv", roles=EX / "roles.yaml")
    assert report.ok, [f.error for f in report.errors]
    import_codings(store, EX / "codings_dev_coder_a.csv")
    import_codings(store, EX / "codings_heldout_gold.csv")
    second = sorted(EX.glob("codings_heldout_coder_*.csv"))
    for path in second:
        import_codings(store, path)
    segs = segment_inputs(store)
    held_segs = [s for s in segs if s.document.startswith(HELD_OUT)]
    dev_segs = [s for s in segs if not s.document.startswith(HELD_OUT)]
    held = {s.id for s in held_segs}
    gold_frame, coverage = coder_codings(store, ["gold"])
    assert coverage["gold"] == held, "gold must cover exactly the held-out segments"
    dev_examples = list(human_examples(store, ["coder_a"]))
    names = [p.stem.removeprefix("codings_heldout_") for p in second]
    humans, human_cover = coder_codings(store, names) if names else (None, {})
    assert all(human_cover[n] == held for n in names), "a second coder must code every held-out segment"
    store.close()
    return dict(codebook=codebook, parent_of={c.id: c.parent for c in codebook.codes},
                tops=[c.id for c in codebook.codes if c.parent is None], segs=segs,
                held_segs=held_segs, dev_segs=dev_segs, held=held, gold_frame=gold_frame,
                dev_examples=dev_examples, seeds=clf.seed_examples_from_codebook(codebook.codes),
                dev_rule_hits=RuleAssistant(codebook).suggest(dev_segs),
                second_coders={n: humans[humans.coder == n] for n in names})


def theme_matrix(frame: pd.DataFrame, parent_of, tops, units) -> np.ndarray:  # noqa: ANN001
    """Segments x themes, True where the coder applied the theme or a code under it."""
    row, col = {u: i for i, u in enumerate(units)}, {t: j for j, t in enumerate(tops)}
    out = np.zeros((len(units), len(tops)), dtype=bool)
    if len(frame):
        rolled = roll_up(frame, parent_of, "top")
        for u, c in zip(rolled.unit, rolled.code):
            if u in row:
                out[row[u], col[c]] = True
    return out


def kappas(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cohen's kappa per column of two boolean matrices (the binary formula; NaN where
    chance agreement is 1), along the first axis or, for 3-d input, the second."""
    a, b = a.astype(float), b.astype(float)
    po = (a == b).mean(-2)
    pa, pb = a.mean(-2), b.mean(-2)
    pe = pa * pb + (1 - pa) * (1 - pb)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pe < 1, (po - pe) / (1 - pe), np.nan)


def f1s(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    tp, fp, fn = ((pred & truth).sum(-2), (pred & ~truth).sum(-2), (~pred & truth).sum(-2))
    return np.where(2 * tp + fp + fn > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)


def bootstrap(pred: np.ndarray, truth: np.ndarray, groups: np.ndarray, n: int = 2000,
              seed: int = 0) -> dict:
    """95% percentile intervals of macro F1, macro kappa and kappa per theme, drawing whole
    interviews (``groups``: each row's interview) with replacement, since segments of one
    interview are not independent."""
    rng = np.random.RandomState(seed)
    names = sorted(set(groups))
    rows_of = [np.flatnonzero(groups == g) for g in names]
    f, k = [], []
    for _ in range(n):
        rows = np.concatenate([rows_of[i] for i in rng.randint(0, len(names), len(names))])
        f.append(f1s(pred[rows], truth[rows]))
        k.append(kappas(pred[rows], truth[rows]))
    f, k = np.array(f), np.array(k)
    lo_hi = lambda x: np.nanpercentile(x, [2.5, 97.5], axis=0)  # noqa: E731
    return {"macro_f1": lo_hi(f.mean(1)), "macro_kappa": lo_hi(np.nanmean(k, 1)),
            "kappa": lo_hi(k)}


def people_section(frames: dict[str, pd.DataFrame], people: dict[str, pd.DataFrame],
                   parent_of, tops, held, doc_of) -> list[str]:  # noqa: ANN001
    """The machine beside people who coded the same held-out interviews independently."""
    units = sorted(held)
    groups = np.array([doc_of[u] for u in units])
    gold = theme_matrix(people["gold"], parent_of, tops, units)
    mats = {name: theme_matrix(f, parent_of, tops, units) for name, f in {**frames, **people}.items()}
    others = [n for n in people if n != "gold"]
    machine = "rules+classifier"
    ci = {n: bootstrap(mats[n], gold, groups) for n in [machine, *others]}
    lines = ["", "## Against people", "",
             f"{len(others)} more people ({', '.join(others)}) coded the held-out interviews on their own, "
             "from the codebook and the conventions of the development coding, without seeing the gold "
             "coding. Their agreement with gold is what the targets mean on this corpus. F1 / kappa "
             f"against gold, with a 95% bootstrap interval for kappa (2,000 resamples of the {len(set(groups))} "
             "interviews, each drawn whole: segments of one interview are not independent).", ""]
    head = [machine, *others]
    lines += ["| theme | support | " + " | ".join(f"{n} F1 / kappa (95%)" for n in head) + " |",
              "|" + "---|" * (len(head) + 2)]
    for j, theme in enumerate([*tops, "(macro)"]):
        cells = []
        for n in head:
            if theme == "(macro)":
                f, k, (lo, hi) = f1s(mats[n], gold).mean(), np.nanmean(kappas(mats[n], gold)), ci[n]["macro_kappa"]
            else:
                f, k = f1s(mats[n], gold)[j], kappas(mats[n], gold)[j]
                lo, hi = ci[n]["kappa"][0][j], ci[n]["kappa"][1][j]
            cells.append(f"{f:.2f} / {k:.2f} ({lo:.2f}-{hi:.2f})")
        support = int(gold[:, j].sum()) if theme != "(macro)" else int(gold.sum())
        lines.append(f"| {theme} | {support} | " + " | ".join(cells) + " |")
    for n in head:
        lo, hi = ci[n]["macro_f1"]
        lines.append("")
        lines.append(f"- {n}: macro F1 {f1s(mats[n], gold).mean():.2f}, 95% interval {lo:.2f} to {hi:.2f}.")
    # every pair of people against the machine against each person: is it one more coder?
    names = list(people)
    pair = [kappas(mats[a], mats[b]) for i, a in enumerate(names) for b in names[i + 1:]]
    vs = [kappas(mats[machine], mats[a]) for a in names]
    alpha = agreement_presence(roll_up(pd.concat(list(people.values()), ignore_index=True),
                                       parent_of, "top"), names, tops,
                               coverage={n: set(held) for n in names})
    alpha = alpha.set_index("code")["krippendorff_alpha"]
    lines += ["", f"Mean kappa between each pair of the {len(names)} people against the mean kappa of "
              f"{machine} with each person, and Krippendorff's alpha among the people:", "",
              "| theme | people with each other | machine with each person | alpha among people |",
              "|---|---|---|---|"]
    for j, theme in enumerate(tops):
        lines.append(f"| {theme} | {np.mean([k[j] for k in pair]):.2f} | {np.mean([k[j] for k in vs]):.2f} "
                     f"| {alpha[theme]:.2f} |")
    lines.append(f"| (macro) | {np.nanmean(pair):.2f} | {np.nanmean(vs):.2f} | "
                 f"{np.nanmean([alpha[t] for t in tops]):.2f} |")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="bench_out", help="folder for quality.md")
    ap.add_argument("--threshold", type=float, default=0.5, help="classifier threshold")
    ap.add_argument("--no-weak-labels", dest="weak_labels", action="store_false",
                    help="never train the classifier on rule hits on uncoded segments "
                         "(default: cross-validation on the dev interviews decides)")
    ap.add_argument("--no-context", dest="context", action="store_false",
                    help="hide the turn before each segment from the classifier (to measure "
                         "what the context adds)")
    args = ap.parse_args()
    from qualcode.coding import classifier as clf
    from qualcode.coding.rules import RuleAssistant

    out = REPO / args.out
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = setup(Path(tmp))
        if not args.context:
            blind = {k: [replace(x, context="") for x in data[k]]
                     for k in ("segs", "held_segs", "dev_segs", "dev_examples")}
            data.update(blind)
        codebook, parent_of, tops = data["codebook"], data["parent_of"], data["tops"]
        segs, held_segs, held = data["segs"], data["held_segs"], data["held"]
        gold_frame, dev_examples, seeds = data["gold_frame"], data["dev_examples"], data["seeds"]
        dev_segs, dev_rule_hits = data["dev_segs"], data["dev_rule_hits"]

        rules = RuleAssistant(codebook).suggest(held_segs)
        # as `qualcode train` does by default: codebook seed texts, and, where cross-validation
        # on the dev interviews says they help, rule hits on the segments nobody has coded
        # (here the held-out ones: the rules, not the gold) as weak labels
        from qualcode.coding.combine import WEAK_WEIGHTS, CombinedAssistant, fit_policy

        policy = fit_policy(dev_examples, segs, RuleAssistant(codebook), parent_of, seeds=seeds,
                            uncoded=held_segs,
                            weak_weights=WEAK_WEIGHTS if args.weak_labels else (0.0,))
        weak = (clf.weak_examples_from_rules(held_segs, rules, weight=policy.weak_weight)
                if policy.weak_weight else [])
        model = clf.train(dev_examples, parent_of, seeds=seeds + weak, evaluate=False).model
        classifier = model.suggest(held_segs, threshold=args.threshold)
        combined = CombinedAssistant(RuleAssistant(codebook), model, policy).suggest(held_segs)
        together = [Suggestion(s.segment_id, s.code, "both", s.confidence, {}) for s in combined]
        union = [Suggestion(s.segment_id, s.code, "union", s.confidence, {}) for s in rules + classifier]
        frames = [
            frame_of(baseline(codebook, held_segs), "baseline"),
            frame_of(rules, "rules"),
            frame_of(classifier, "classifier"),
            frame_of(together, "rules+classifier"),
            frame_of(union, "union"),
        ]
        table = score(frames, gold_frame, parent_of, tops, held)

        # the rules on the dev interviews they were written on (_01.._08 of each site), and on
        # the later dev interviews (_09 and up), which no rule was written for
        rule_hits_dev = RuleAssistant(codebook).suggest(dev_segs)
        doc_of = {s.id: s.document for s in dev_segs}
        on_dev = {}
        for label, later in (("written on", False), ("later", True)):
            ids = {e.segment_id for e in dev_examples if _later(doc_of[e.segment_id]) == later}
            ref = pd.DataFrame([(e.segment_id, "gold", c) for e in dev_examples
                                if e.segment_id in ids for c in e.codes],
                               columns=["unit", "coder", "code"])
            t = score([frame_of([r for r in rule_hits_dev if r.segment_id in ids], "rules")],
                      ref, parent_of, tops, ids)
            on_dev[label] = (len(ids), t[t.code == "(macro)"].iloc[0])

        # cold start: classifier with 0, 20 and 50 human-coded dev segments, with and without seeds
        import random

        rng = random.Random(0)
        pool = list(dev_examples)
        rng.shuffle(pool)
        cold = []
        variants = {"none": lambda ex: [],
                    "codebook": lambda ex: seeds,
                    "codebook + rule hits": lambda ex: seeds + clf.weak_examples_from_rules(
                        [s for s in dev_segs if s.id not in {e.segment_id for e in ex}], dev_rule_hits)}
        for n in (0, 20, 50, len(pool)):
            for label, extra in variants.items():
                examples = pool[:n]
                if not examples and label == "none":
                    cold.append({"human_segments": n, "seeds": label, "macro_f1": float("nan"),
                                 "macro_kappa": float("nan")})
                    continue
                m = clf.train(examples, parent_of, seeds=extra(examples), evaluate=False,
                              min_examples=2 if n <= 50 else 5).model
                f = frame_of(m.suggest(held_segs, threshold=args.threshold), "classifier")
                t = score([f], gold_frame, parent_of, tops, held)
                macro = t[t.code == "(macro)"].iloc[0]
                cold.append({"human_segments": n, "seeds": label,
                             "macro_f1": macro["f1"], "macro_kappa": macro["cohen_kappa"]})

    cols = ["method", "code", "support", "precision", "recall", "f1", "cohen_kappa"]
    pretty = table[cols].copy()
    lines = [f"# Coding quality on the held-out interviews ({len(held)} segments, 7 interviews)", ""]
    lines.append("Per top-level theme against human gold coding; `(macro)` averages the themes.")
    lines.append(f"rules+classifier is `suggest --method all`: a rule hit is kept where the classifier gives its "
                 f"theme p >= {policy.lo:.2f}, the classifier suggests alone where p >= {policy.hi:.2f}; both "
                 f"thresholds chosen on the development interviews only (cross-validated over {policy.folds} "
                 f"groups of documents, macro F1 {policy.cv_macro_f1:.2f} there). The same cross-validation "
                 f"chose to {'train the classifier also on' if policy.weak_weight else 'leave out'} rule hits "
                 f"on the uncoded segments as weak labels. The classifier "
                 f"{'reads' if args.context else 'does not read (--no-context)'} the turn before each segment. union = every rule hit plus "
                 f"every classifier suggestion at p >= {args.threshold}.")
    lines.append("")
    wide = pretty.pivot_table(index="code", columns="method", values=["f1", "cohen_kappa"], sort=False)
    order = [c for c in tops if c in wide.index] + ["(macro)"]
    wide = wide.reindex(order)
    header = "| theme | support | " + " | ".join(f"{m} F1 / kappa" for m in METHODS) + " |"
    lines += [header, "|" + "---|" * (len(METHODS) + 2)]
    support = pretty[pretty.method == "rules"].set_index("code")["support"]
    for code in order:
        cells = []
        for m in METHODS:
            cells.append(f"{wide.loc[code, ('f1', m)]:.2f} / {wide.loc[code, ('cohen_kappa', m)]:.2f}")
        lines.append(f"| {code} | {int(support.get(code, 0))} | " + " | ".join(cells) + " |")
    (n_own, own), (n_later, later) = on_dev["written on"], on_dev["later"]
    last = max(int(Path(s.document).stem.rsplit("_", 1)[1]) for s in data["dev_segs"])
    lines += ["", f"Rules against coder_a on the development interviews they were written and tuned on "
              f"(_01 to _08 of each site, {n_own} segments): macro F1 {own['f1']:.2f}, kappa "
              f"{own['cohen_kappa']:.2f}; on the later development interviews no rule was written for "
              f"(_09 to _{last:02d}, {n_later} segments): macro F1 {later['f1']:.2f}, kappa "
              f"{later['cohen_kappa']:.2f}."]
    lines += ["", "Precision and recall:", "", "| method | theme | precision | recall |", "|---|---|---|---|"]
    for _, r in pretty.iterrows():
        lines.append(f"| {r['method']} | {r['code']} | {r['precision']:.2f} | {r['recall']:.2f} |")
    lines += ["", "Cold start (classifier alone, macro over themes):", "",
              "| human-coded dev segments | seed texts (weight 0.5) | macro F1 | macro kappa |", "|---|---|---|---|"]
    for r in cold:
        lines.append(f"| {r['human_segments']} | {r['seeds']} | {r['macro_f1']:.2f} | {r['macro_kappa']:.2f} |")
    if data["second_coders"]:
        lines += people_section({f.coder.iloc[0]: f for f in frames[1:4]},
                                {"gold": gold_frame, **data["second_coders"]}, parent_of, tops, held,
                                {x.id: x.document for x in held_segs})
    text = "\n".join(lines) + "\n"
    (out / "quality.md").write_text(text, encoding="utf-8")
    print(text)
    print(f"written to {out / 'quality.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
