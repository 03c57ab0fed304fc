"""Classifier variants in cross-validation on the development interviews only.

Reproduces the "tried and dropped" list in the README's Quality section: each variant is
trained and scored in 5 folds grouped by document (the same fold assignment for all), on
coder_a's coding of the development interviews. Nothing here reads the held-out interviews
or their gold coding, so trying variants spends none of the held-out test.

For each variant it reports macro F1 over the seven themes, for the classifier alone at
p >= 0.5 and for rules + classifier under the combine policy chosen on the other folds
(nested, as ``qualcode train`` chooses it), on all development segments, on the interviews
written first (_01 to _08 of each site, the style the held-out interviews resemble) and on
the later ones. Writes ``bench_out/quality_variants.md``.

    scripts/bench_quality_variants.py                       # every variant, ~15 minutes
    scripts/bench_quality_variants.py --variants default,early-x3
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qualcode.coding import classifier as clf  # noqa: E402
from qualcode.coding.classifier import TrainingExample  # noqa: E402
from qualcode.coding.combine import _theme_hits, _top_of, choose_policy, decide  # noqa: E402

EX = REPO / "transcripts_example"
HELD_OUT = ("lincolnshire_", "luton_")
FOLDS = 5


def setup_dev(tmp: Path) -> dict:
    """The development interviews and coder_a's coding of them; no held-out file is read."""
    from qualcode.codebook import load_and_validate
    from qualcode.coding.imports import import_codings
    from qualcode.coding.rules import RuleAssistant
    from qualcode.ingest.pipeline import ingest_paths
    from qualcode.store.repo import Store
    from qualcode.workflows.assist import human_examples, segment_inputs

    store = Store.open(tmp / "variants.db", create=True)
    codebook = load_and_validate(REPO / "codebooks" / "ips_realist.yaml")
    store.save_codebook(codebook)
    files = sorted(p for p in EX.iterdir() if p.suffix in {".docx", ".vtt", ".txt"}
                   and not p.name.startswith(HELD_OUT))
    report = ingest_paths(store, files, manifest=EX / "manifest.csv", roles=EX / "roles.yaml")
    assert report.ok, [f.error for f in report.errors]
    import_codings(store, EX / "codings_dev_coder_a.csv")
    segs = segment_inputs(store)
    examples = list(human_examples(store, ["coder_a"]))
    store.close()
    seg_of = {s.id: s for s in segs}
    parent_of = {c.id: c.parent for c in codebook.codes}
    tops = [c.id for c in codebook.codes if c.parent is None]
    top_of = _top_of(parent_of)
    hits = RuleAssistant(codebook).suggest([seg_of[e.segment_id] for e in examples])
    index = {e.segment_id: i for i, e in enumerate(examples)}
    docs = [seg_of[e.segment_id].document for e in examples]
    return dict(examples=examples, parent_of=parent_of, tops=tops, top_of=top_of,
                seeds=clf.seed_examples_from_codebook(codebook.codes), hits=hits,
                rule_themes=_theme_hits(hits, index, tops, top_of),
                truth=np.array([[any(top_of[c] == t for c in e.codes) for t in tops]
                                for e in examples]),
                docs=docs, start={s.id: s.start for s in segs},
                early=np.array([int(Path(d).stem.rsplit("_", 1)[1]) <= 8 for d in docs]))


def folds_of(docs: list[str], seed: int) -> np.ndarray:
    order = np.random.RandomState(seed).permutation(sorted(set(docs)))
    fold = {d: i % FOLDS for i, d in enumerate(order)}
    return np.array([fold[d] for d in docs])


def theme_max(probs: np.ndarray, codes: list[str], data: dict) -> np.ndarray:
    """p(theme): the highest probability of the theme or any code under it."""
    out = np.zeros((probs.shape[0], len(data["tops"])))
    for j, t in enumerate(data["tops"]):
        cols = [i for i, c in enumerate(codes) if data["top_of"][c] == t]
        if cols:
            out[:, j] = probs[:, cols].max(1)
    return out


Augment = Callable[[list[TrainingExample], dict], list[TrainingExample]]


def oof_codes(data: dict, fold: np.ndarray, augment: Augment | None = None) -> tuple[np.ndarray, list[str]]:
    """Out-of-fold probability of every code, each fold's model trained as `qualcode train`
    trains it (codebook seeds, no weak labels) on the other folds, plus ``augment``'s rows."""
    ex, codes = data["examples"], list(data["parent_of"])
    out = np.zeros((len(ex), len(codes)))
    for f in range(FOLDS):
        test = np.flatnonzero(fold == f)
        train = [ex[i] for i in np.flatnonzero(fold != f)]
        if augment is not None:
            train = augment(train, data)
        model = clf.train(train, data["parent_of"], seeds=data["seeds"], evaluate=False).model
        probs = model.predict_proba([ex[i].text for i in test], [ex[i].context for i in test])
        for j, c in enumerate(model.codes):
            out[test, codes.index(c)] = probs[:, j]
    return out, codes


def early_x3(train: list[TrainingExample], data: dict) -> list[TrainingExample]:
    """The interviews written first (_01 to _08) count three times."""
    early = {e.segment_id for e, is_early in zip(data["examples"], data["early"]) if is_early}
    return [replace(e, weight=3.0) if e.segment_id in early else e for e in train]


def mask_rule_spans(train: list[TrainingExample], data: dict) -> list[TrainingExample]:
    """A copy at weight 0.5 of each coded segment with every rule-matched span cut out, so
    that the classifier must learn what a turn says without the rules' words."""
    spans: dict[int, list[tuple[int, int]]] = {}
    for s in data["hits"]:
        a, b = s.provenance["span"]
        spans.setdefault(s.segment_id, []).append((a - data["start"][s.segment_id],
                                                   b - data["start"][s.segment_id]))
    extra = []
    for e in train:
        if not e.codes or e.segment_id not in spans:
            continue
        kept, last = [], 0
        for a, b in sorted(spans[e.segment_id]):
            if a >= last:
                kept.append(e.text[last:a])
            last = max(last, b)
        kept.append(e.text[last:])
        extra.append(replace(e, text=" ".join(kept), weight=0.5, segment_id=None))
    return train + extra


def word_dropout(train: list[TrainingExample], data: dict) -> list[TrainingExample]:
    """A copy at weight 0.5 of each coded segment with 30% of its words dropped at random."""
    rng = random.Random(0)
    extra = [replace(e, text=" ".join(w for w in e.text.split() if rng.random() > 0.3),
                     weight=0.5, segment_id=None) for e in train if e.codes]
    return train + extra


def embedding_probs(data: dict, fold: np.ndarray, codes: list[str]) -> np.ndarray:
    """Out-of-fold probabilities of a logistic model per code on all-MiniLM-L6-v2
    embeddings of the turn and (at half weight) the turn before it."""
    from sklearn.linear_model import LogisticRegression

    from qualcode.coding.embeddings import EmbeddingFeaturiser

    ex, emb = data["examples"], EmbeddingFeaturiser()
    x = np.hstack([emb.transform([e.text for e in ex]),
                   0.5 * emb.transform([e.context or "." for e in ex])])
    sets = [{data["top_of"][c] for c in e.codes} | set(e.codes) for e in ex]
    out = np.zeros((len(ex), len(codes)))
    for f in range(FOLDS):
        tr, te = fold != f, fold == f
        for j, c in enumerate(codes):
            y = np.array([c in s for s in sets])
            if y[tr].sum() >= 3:
                lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
                out[te, j] = lr.fit(x[tr], y[tr]).predict_proba(x[te])[:, 1]
    return out


def f1s(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    tp, fp, fn = (pred & truth).sum(0), (pred & ~truth).sum(0), (~pred & truth).sum(0)
    return 2 * tp / np.maximum(2 * tp + fp + fn, 1)


def nested_policy(p: np.ndarray, data: dict, fold: np.ndarray) -> np.ndarray:
    """Rules + classifier, the policy of each fold chosen on the other folds."""
    truth, hits = data["truth"], data["rule_themes"]
    pred = np.zeros_like(truth)
    for f in range(FOLDS):
        tr, te = fold != f, fold == f
        policy = choose_policy(p[tr], hits[tr], truth[tr])
        pred[te] = decide(p[te], hits[te], policy)
    return pred


VARIANTS = {
    "default": "as `qualcode train` trains",
    "early-x3": "interviews _01 to _08 weighted 3",
    "mask-rule-spans": "plus copies with the rules' matched words cut out (weight 0.5)",
    "word-dropout": "plus copies with 30% of words dropped (weight 0.5)",
    "embedding-fusion": "averaged with a MiniLM-embedding logistic model (needs the embeddings extra)",
}
AUGMENT: dict[str, Augment | None] = {"default": None, "early-x3": early_x3,
                                      "mask-rule-spans": mask_rule_spans,
                                      "word-dropout": word_dropout}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help=f"comma-separated, from: {', '.join(VARIANTS)}")
    ap.add_argument("--seed", type=int, default=0, help="fold assignment (default 0)")
    ap.add_argument("--out", default="bench_out", help="folder for quality_variants.md")
    args = ap.parse_args()
    wanted = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in wanted if v not in VARIANTS]
    if unknown:
        ap.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    with tempfile.TemporaryDirectory() as tmp:
        data = setup_dev(Path(tmp))
    fold, truth, early = folds_of(data["docs"], args.seed), data["truth"], data["early"]
    rows, cache = [], {}
    for name in wanted:
        t0 = time.perf_counter()
        if name == "embedding-fusion":
            if "default" not in cache:
                cache["default"] = oof_codes(data, fold)
            probs, codes = cache["default"]
            p = 0.5 * theme_max(probs, codes, data) + 0.5 * theme_max(
                embedding_probs(data, fold, codes), codes, data)
        else:
            cache[name] = oof_codes(data, fold, AUGMENT[name])
            p = theme_max(*cache[name], data)
        both = nested_policy(p, data, fold)
        cells = []
        for part in (np.ones(len(truth), bool), early, ~early):
            cells += [f1s(p[part] >= 0.5, truth[part]).mean(), f1s(both[part], truth[part]).mean()]
        per_theme = f1s(both[early], truth[early])
        rows.append((name, cells, per_theme))
        print(f"{name}: classifier {cells[0]:.3f}, rules+classifier {cells[1]:.3f} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
    out = REPO / args.out
    out.mkdir(exist_ok=True)
    lines = [f"# Classifier variants, development cross-validation ({len(truth)} segments, "
             f"{FOLDS} folds grouped by document, fold seed {args.seed})", "",
             "Macro F1 over the themes: classifier alone at p >= 0.5 / rules + classifier "
             "(policy chosen on the other folds). 'first' is interviews _01 to _08 of each site "
             f"({int(early.sum())} segments), 'later' the rest.", "",
             "| variant | what | all | first | later |", "|---|---|---|---|---|"]
    for name, c, _ in rows:
        lines.append(f"| {name} | {VARIANTS[name]} | {c[0]:.3f} / {c[1]:.3f} | "
                     f"{c[2]:.3f} / {c[3]:.3f} | {c[4]:.3f} / {c[5]:.3f} |")
    lines += ["", "Rules + classifier F1 per theme on the first interviews:", "",
              "| variant | " + " | ".join(data["tops"]) + " |",
              "|---|" + "---|" * len(data["tops"])]
    lines += [f"| {name} | " + " | ".join(f"{x:.2f}" for x in t) + " |" for name, _, t in rows]
    target = out / "quality_variants.md"
    tmp_path = target.with_suffix(".md.tmp")
    tmp_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp_path.replace(target)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
