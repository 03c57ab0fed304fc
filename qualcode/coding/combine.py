"""Rules and classifier together: each checks the other, with thresholds learned from people.

Rules find every mention of a theme; human coders code what a turn is about. So a rule
hit is kept only where the classifier finds its theme at least plausible (probability of
the top-level theme >= ``lo``), and the classifier suggests on its own only where it is
confident (probability >= ``hi``). Both thresholds are chosen by cross-validation grouped
by document on the human codings (:func:`fit_policy`), never on the data scored later, and
saved with the model, so that ``suggest --method all`` and the quality benchmark apply
exactly the same policy.

The same cross-validation decides whether the classifier should also learn from rule hits
on uncoded segments (weak labels). They carry a cold start a long way but, once people have
coded a few hundred segments, they pull the classifier towards the rules' mistakes on
exactly the segments it will score. In each fold the held-out documents stand in for the
uncoded ones: their rule hits join the training data as weak labels, as they would later.

Pure: segments and examples in, suggestions and a policy out; the store persists them.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from qualcode.coding.base import SegmentInput, Suggestion
from qualcode.errors import InvalidInput, QualcodeError

if TYPE_CHECKING:
    from qualcode.coding.classifier import CodeClassifier, TrainingExample
    from qualcode.coding.rules import RuleAssistant

WEAK_WEIGHTS = (0.0, 0.5)  # weight of a weak label; 0.0: none
HI_GRID = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)  # 1.01: the classifier never suggests alone
LO_GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4)  # 0.0: every rule hit is kept
DEFAULT_FOLDS = 5
MAX_JOBS = 4  # worker processes training fold models side by side


@dataclass(frozen=True)
class CombinePolicy:
    """Keep a rule hit when p(theme) >= lo; let the classifier suggest alone when p >= hi.

    ``cv_macro_f1`` is the cross-validated macro F1 over top-level themes that chose it
    (NaN for a policy set by hand), ``folds`` the number of document groups used, and
    ``weak_weight`` the weight of rule-hit weak labels the classifier was trained with
    (0.0: none; None: not chosen by cross-validation).
    """

    hi: float = 0.6
    lo: float = 0.1
    cv_macro_f1: float = float("nan")
    folds: int = 0
    weak_weight: float | None = None

    def __post_init__(self) -> None:
        for name in ("hi", "lo"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0.0 <= v <= 1.01):
                raise InvalidInput(f"combine policy {name} must be between 0 and 1, got {v!r}")

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and np.isnan(v) else v)
                for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CombinePolicy | None:
        if not data:
            return None
        f1, weak = data.get("cv_macro_f1"), data.get("weak_weight")
        return cls(hi=float(data["hi"]), lo=float(data["lo"]),
                   cv_macro_f1=float("nan") if f1 is None else float(f1),
                   folds=int(data.get("folds") or 0),
                   weak_weight=None if weak is None else float(weak))


def _top_of(parent_of: Mapping[str, str | None]) -> dict[str, str]:
    out = {}
    for code in parent_of:
        top, seen = code, {code}
        while parent_of.get(top) is not None and parent_of[top] not in seen:
            top = parent_of[top]  # type: ignore[assignment]
            seen.add(top)
        out[code] = top
    return out


def _macro_f1(pred: np.ndarray, truth: np.ndarray) -> float:
    tp = (pred & truth).sum(0)
    fp = (pred & ~truth).sum(0)
    fn = (~pred & truth).sum(0)
    denom = 2 * tp + fp + fn
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 1.0)
    return float(f1.mean())


def decide(p: np.ndarray, rule_hit: np.ndarray, policy: CombinePolicy) -> np.ndarray:
    """Theme presence under ``policy``: (p >= hi) or (rule hit and p >= lo)."""
    return (p >= policy.hi) | (rule_hit & (p >= policy.lo))


def choose_policy(p: np.ndarray, rule_hit: np.ndarray, truth: np.ndarray, *,
                  folds: int = 0) -> CombinePolicy:
    """The (hi, lo) pair of the grids with the best macro F1 over themes; ties go to the
    larger ``lo`` then the larger ``hi`` (fewer, surer suggestions)."""
    p, rule_hit, truth = (np.asarray(a) for a in (p, rule_hit, truth))
    if not (p.shape == rule_hit.shape == truth.shape) or p.ndim != 2:
        raise InvalidInput("choose_policy needs three arrays of one shape (segments, themes)")
    best: tuple[float, float, float] | None = None
    for hi in HI_GRID:
        for lo in LO_GRID:
            if lo > hi:
                continue
            f1 = _macro_f1(decide(p, rule_hit.astype(bool), CombinePolicy(hi, lo)),
                           truth.astype(bool))
            key = (round(f1, 9), lo, hi)
            if best is None or key > best:
                best = key
    assert best is not None
    return CombinePolicy(hi=best[2], lo=best[1], cv_macro_f1=best[0], folds=folds)


def _theme_hits(suggestions: Iterable[Suggestion], index: Mapping[int, int],
                themes: Sequence[str], top_of: Mapping[str, str]) -> np.ndarray:
    col = {t: j for j, t in enumerate(themes)}
    out = np.zeros((len(index), len(themes)), dtype=bool)
    for s in suggestions:
        out[index[s.segment_id], col[top_of[s.code]]] = True
    return out


def fit_policy(examples: Sequence[TrainingExample], segments: Sequence[SegmentInput],
               rules: RuleAssistant, parent_of: Mapping[str, str | None], *,
               seeds: Sequence[TrainingExample] = (), uncoded: Sequence[SegmentInput] = (),
               weak_weights: Sequence[float] = (0.0,), folds: int = DEFAULT_FOLDS,
               seed: int = 0, min_examples: int = 5,
               progress: Callable[[str, int, int], None] | None = None,
               n_jobs: int | None = None) -> CombinePolicy | None:
    """Choose the policy, and the weight of weak labels, by cross-validation grouped by document.

    ``examples`` are human-coded segments (with ``segment_id``), ``segments`` give their
    documents and roles. In each fold the classifier is trained on the other documents and
    scores this fold's segments; the rules score every segment once. For each weight in
    ``weak_weights`` above 0 the classifier also learns from rule hits on ``uncoded`` and on
    this fold's segments, at that weight. The best (weight, hi, lo) wins; a tie goes to the
    smaller weight. Returns None when there are fewer than 3 documents to group by (no
    honest estimate is possible). ``progress`` gets ("choosing the policy", done, total)
    before the first fold model and as each is done. The fold models are trained in
    ``n_jobs`` worker processes (default: one per CPU, at most 4); the policy is the same
    whatever the number.
    """
    from qualcode.coding import classifier as clf

    seg_of = {s.id: s for s in segments}
    rows = [e for e in examples if e.segment_id in seg_of]
    docs = sorted({seg_of[e.segment_id].document for e in rows})
    k = min(folds, len(docs))
    if k < 3:
        return None
    if not weak_weights or any(not 0.0 <= w <= 1.0 for w in weak_weights):
        raise InvalidInput(f"weak_weights must be weights in [0, 1], got {list(weak_weights)}")
    if n_jobs is not None and not (isinstance(n_jobs, int) and n_jobs >= 1):
        raise InvalidInput(f"n_jobs must be a positive whole number, got {n_jobs!r}")
    top_of = _top_of(parent_of)
    themes = [c for c in parent_of if parent_of[c] is None]
    col = {t: j for j, t in enumerate(themes)}
    index = {e.segment_id: i for i, e in enumerate(rows)}
    truth = np.zeros((len(rows), len(themes)), dtype=bool)
    for i, e in enumerate(rows):
        for c in e.codes:
            truth[i, col[top_of[c]]] = True
    row_segs = [seg_of[e.segment_id] for e in rows]
    row_hits = rules.suggest(row_segs)
    hits = _theme_hits(row_hits, index, themes, top_of)
    uncoded = [s for s in uncoded if s.id not in index]
    uncoded_hits = rules.suggest(uncoded) if uncoded and max(weak_weights) > 0 else []

    order = np.random.RandomState(seed).permutation(docs)
    fold_of = {d: i % k for i, d in enumerate(order)}
    weights = sorted(set(weak_weights))
    tests, tasks = [], []
    for weight in weights:
        for f in range(k):
            test = [i for i, e in enumerate(rows) if fold_of[seg_of[e.segment_id].document] == f]
            train_rows = [e for e in rows if fold_of[seg_of[e.segment_id].document] != f]
            extra = list(seeds)
            if weight > 0:
                stand_in = [*uncoded, *(row_segs[i] for i in test)]
                extra += clf.weak_examples_from_rules(stand_in, [*uncoded_hits, *row_hits],
                                                      weight=weight)
            tests.append(test)
            tasks.append(_FoldTask(train_rows, dict(parent_of), extra, seed, min_examples,
                                   [rows[i].text for i in test], [rows[i].context for i in test],
                                   themes))
    fold_p = _run_tasks(tasks, n_jobs, progress)

    best: tuple[tuple[float, float], CombinePolicy] | None = None
    for w_i, weight in enumerate(weights):
        p = np.zeros((len(rows), len(themes)))
        for t_i in range(w_i * k, (w_i + 1) * k):
            if fold_p[t_i] is not None:  # None: the fold had too little to learn from (rules alone)
                p[tests[t_i]] = fold_p[t_i]
        policy = choose_policy(p, hits, truth, folds=k)
        policy = CombinePolicy(policy.hi, policy.lo, policy.cv_macro_f1, k, float(weight))
        key = (round(policy.cv_macro_f1, 9), -weight)
        if best is None or key > best[0]:
            best = (key, policy)
    assert best is not None
    return best[1]


@dataclass(frozen=True)
class _FoldTask:
    """One fold model of :func:`fit_policy`: what it learns from and what it scores."""

    train_rows: list[TrainingExample]
    parent_of: dict[str, str | None]
    seeds: list[TrainingExample]
    seed: int
    min_examples: int
    texts: list[str]
    contexts: list[str]
    themes: list[str]


def _fold_probabilities(task: _FoldTask) -> np.ndarray | None:
    """p(theme) of the fold's segments from a model trained on the other folds; None when
    the other folds have too little to learn from."""
    from qualcode.coding import classifier as clf

    try:
        model = clf.train(task.train_rows, task.parent_of, seeds=task.seeds, evaluate=False,
                          seed=task.seed, min_examples=task.min_examples).model
    except InvalidInput:
        return None
    return theme_probabilities(model, task.texts, task.themes, task.contexts)


def _run_tasks(tasks: list[_FoldTask], n_jobs: int | None,
               progress: Callable[[str, int, int], None] | None) -> list[np.ndarray | None]:
    """Each task's probabilities, in order; in worker processes when more than one is
    allowed (liblinear draws from one random state per process, so threads would make the
    models differ from run to run)."""
    workers = min(n_jobs or min(MAX_JOBS, os.cpu_count() or 1), len(tasks))
    stage = "choosing the policy"
    if progress is not None:
        progress(stage, 0, len(tasks))
    if workers <= 1:
        out = []
        for task in tasks:
            out.append(_fold_probabilities(task))
            if progress is not None:
                progress(stage, len(out), len(tasks))
        return out
    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [pool.submit(_fold_probabilities, task) for task in tasks]
            for done, _ in enumerate(as_completed(futures), start=1):
                if progress is not None:
                    progress(stage, done, len(tasks))
            return [f.result() for f in futures]
    except BrokenProcessPool as exc:
        raise QualcodeError(f"a worker process training the cross-validation stopped ({exc}); "
                            "out of memory? try one process (--jobs 1)") from exc


def theme_probabilities(model: CodeClassifier, texts: Sequence[str],
                        themes: Sequence[str], contexts: Sequence[str] | None = None
                        ) -> np.ndarray:
    """p(theme) per text: the highest probability of the theme or any code under it (a
    sub-code implies its theme), so that p(theme) >= t exactly when the classifier at
    threshold t suggests something in the theme. 0 where nothing in it was trained."""
    probs = model.predict_proba(list(texts), None if contexts is None else list(contexts))
    top_of = _top_of(model.parent_of)
    col = {t: j for j, t in enumerate(themes)}
    out = np.zeros((len(texts), len(themes)))
    for j, code in enumerate(model.codes):
        t = col[top_of[code]]
        np.maximum(out[:, t], probs[:, j], out=out[:, t])
    return out


class CombinedAssistant:
    """Rule suggestions vetted by the classifier, plus the classifier's confident ones.

    ``suggest`` returns suggestions of both sources (``rule`` and ``classifier``), each with
    its usual provenance; a kept rule suggestion also carries ``theme_score``, the
    classifier's probability for its theme.
    """

    source = "combined"

    def __init__(self, rules: RuleAssistant, model: CodeClassifier,
                 policy: CombinePolicy) -> None:
        self.rules, self.model, self.policy = rules, model, policy
        self._top_of = _top_of(model.parent_of)
        self._themes = [c for c in model.parent_of if model.parent_of[c] is None]

    def suggest(self, segments: Iterable[SegmentInput]) -> list[Suggestion]:
        segs = [s for s in segments if s.text.strip()]
        if not segs:
            return []
        p = theme_probabilities(self.model, [s.text for s in segs], self._themes,
                                [s.context for s in segs])
        row = {s.id: i for i, s in enumerate(segs)}
        col = {t: j for j, t in enumerate(self._themes)}
        out: list[Suggestion] = []
        for s in self.rules.suggest(segs):
            score = float(p[row[s.segment_id], col[self._top_of[s.code]]])
            if score >= self.policy.lo:
                out.append(Suggestion(s.segment_id, s.code, s.source, s.confidence,
                                      {**s.provenance, "theme_score": round(score, 4)}))
        if self.policy.hi <= 1.0:
            out.extend(self.model.suggest(segs, threshold=self.policy.hi))
        return out
