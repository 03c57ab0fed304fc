"""The classifier assistant: learns codes from accepted human codings and suggests them.

One shared featuriser (TF-IDF word 1-2-grams + char_wb 2-5-grams of the segment, and word
1-2-grams of its context, the turn before it, at half weight) and one L2 logistic
regression per code (``class_weight="balanced"``). Probabilities are calibrated with Platt
scaling fitted on *out-of-fold* decision scores of the human examples (the same scheme as
``CalibratedClassifierCV(method="sigmoid", ensemble=False)``), so a model is one stacked
coefficient matrix plus two numbers per code and scoring is a single sparse product.

Honest evaluation: ``train`` cross-validates each code on the human examples only (seeds
are always in the training side), refits the featuriser inside every fold, and calibrates
the out-of-fold probabilities with an inner cross-validation inside the training fold.

Only numpy is imported at module level; scipy, scikit-learn and pandas are imported where
they are used, so importing this module keeps the CLI start fast.

The featuriser is a seam (:class:`Featuriser`): a sentence-embedding featuriser can be
passed to :func:`train` later without changing the rest.
"""

from __future__ import annotations

import hashlib
import json
import math
import pickle
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from qualcode.coding.base import SegmentInput, Suggestion
from qualcode.errors import InvalidInput, QualcodeError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

FORMAT = "qualcode-classifier"
FORMAT_VERSION = 2  # 2: the featuriser reads the context (the turn before the segment)
MIN_NEGATIVES = 5
CALIBRATION_FOLDS = 3
CHUNK = 4096  # texts vectorised at a time
EVIDENCE_WORDS = 3  # words of the segment shown as a suggestion's evidence
EVIDENCE_CONTEXT = 2  # and words of the turn before it
MIN_CREDITED_GRAM = 3  # shorter char n-grams (" a", "th") are in too many words to credit
Progress = Callable[[str, int, int], None]  # (stage, done, total): for progress bars
SEED_ORIGINS = frozenset({"codebook", "rule"})
CONTEXT_SEP = "\x1e"  # featuriser input: the segment's text, then its context after this


def joined(text: str, context: str = "") -> str:
    """One featuriser input: ``text``, and ``context`` after :data:`CONTEXT_SEP` if any."""
    text = text.replace(CONTEXT_SEP, " ")
    return f"{text}{CONTEXT_SEP}{context.replace(CONTEXT_SEP, ' ')}" if context else text


def text_part(item: str) -> str:
    """The segment's own text of a featuriser input (what a context-blind featuriser reads)."""
    return item.split(CONTEXT_SEP, 1)[0]


def context_part(item: str) -> str:
    """The context of a featuriser input ('' when it has none)."""
    parts = item.split(CONTEXT_SEP, 1)
    return parts[1] if len(parts) > 1 else ""


def _lower_text(item: str) -> str:  # module-level: saved models pickle their featuriser
    return text_part(item).lower()


def _lower_context(item: str) -> str:
    return context_part(item).lower()


@dataclass(frozen=True, slots=True)
class TrainingExample:
    """One coded text. ``codes`` may be empty: a reviewed segment to which no code applies.
    ``context`` is the turn before the segment (usually the interviewer's question)."""

    text: str
    codes: frozenset[str]
    role: str | None = None
    segment_id: int | None = None
    weight: float = 1.0
    origin: str = "human"
    context: str = ""


# --- featurisers -------------------------------------------------------------------------
class Featuriser(Protocol):
    """Turns texts into a feature matrix; the seam for other backends (e.g. embeddings).

    ``cross_fit(texts)`` returns a function ``rows -> matrix of all texts`` whose features
    were fitted on ``texts[rows]`` only (for honest cross-validation); a featuriser with
    nothing to fit (a pre-trained sentence encoder) can encode once and ignore ``rows``.
    Each text is a featuriser input built by :func:`joined`: a featuriser that ignores
    context reads :func:`text_part` of it.
    """

    name: str

    def params(self) -> dict[str, Any]: ...
    def fit_transform(self, texts: Sequence[str]) -> Any: ...
    def transform(self, texts: Sequence[str]) -> Any: ...
    def cross_fit(self, texts: Sequence[str]) -> Callable[[np.ndarray], Any]: ...


@contextmanager
def _no_words_is_invalid() -> Iterator[None]:
    try:
        yield
    except ValueError as exc:  # sklearn: "empty vocabulary; perhaps the documents only..."
        raise InvalidInput(f"the training texts have no words to learn from ({exc})") from exc


class TfidfFeaturiser:
    """TF-IDF word n-grams + TF-IDF char_wb n-grams of the segment, and TF-IDF word n-grams
    of its context scaled by ``context_weight``, side by side (sklearn FeatureUnion).

    The context is the question the segment answers: "what difference has it made to you?"
    marks an outcome even when the answer never says "job". Measured on the development
    interviews (cross-validated by document), weight 0.5 beat 0.3, 0.7 and 1.0; 0 leaves
    the context out.
    """

    name = "tfidf"

    def __init__(self, word_ngrams: tuple[int, int] = (1, 2),
                 char_ngrams: tuple[int, int] = (2, 5), context_weight: float = 0.5) -> None:
        if not (isinstance(context_weight, (int, float)) and 0.0 <= context_weight <= 1.0):
            raise InvalidInput(f"context_weight must be in [0, 1], got {context_weight!r}")
        self.word_ngrams = tuple(word_ngrams)
        self.char_ngrams = tuple(char_ngrams)
        self.context_weight = float(context_weight)
        self._union: Any = None

    def params(self) -> dict[str, Any]:
        return {"word_ngrams": list(self.word_ngrams), "char_ngrams": list(self.char_ngrams),
                "context_weight": self.context_weight, "context_ngrams": list(self.word_ngrams),
                "sublinear_tf": True, "min_df": 1, "lowercase": True, "smooth_idf": True}

    def _parts(self, cls: Any) -> list[tuple[str, Any, float]]:
        """(name, vectoriser, weight) of each block; a context-free text has an empty
        context block (its context vectoriser sees '')."""
        common: dict[str, Any] = {"min_df": 1}
        if cls.__name__ == "TfidfVectorizer":
            common.update(sublinear_tf=True, dtype=np.float64)
        parts = [
            ("word", cls(analyzer="word", ngram_range=self.word_ngrams,
                         preprocessor=_lower_text, **common), 1.0),
            ("char", cls(analyzer="char_wb", ngram_range=self.char_ngrams,
                         preprocessor=_lower_text, **common), 1.0)]
        if self.context_weight > 0:
            parts.append(("context", cls(analyzer="word", ngram_range=self.word_ngrams,
                                         preprocessor=_lower_context, **common),
                          self.context_weight))
        return parts

    def _count_blocks(self, cls: Any, texts: list[str]) -> list[Any]:
        blocks = []
        for name, vec, _ in self._parts(cls):
            try:
                blocks.append(vec.fit_transform(texts))
            except ValueError as exc:
                if name != "context":
                    raise InvalidInput(f"the training texts have no words to learn from ({exc})"
                                       ) from exc
                blocks.append(None)  # no context anywhere: the block is left out
        return blocks

    def _has_context_words(self, texts: list[str]) -> bool:
        from sklearn.feature_extraction.text import CountVectorizer

        try:
            CountVectorizer(preprocessor=_lower_context).fit(texts)
        except ValueError:
            return False
        return True

    def fit_transform(self, texts: Sequence[str]) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        texts = list(texts)
        parts = self._parts(TfidfVectorizer)
        if self.context_weight > 0 and not self._has_context_words(texts):
            parts = parts[:2]
        self._union = FeatureUnion([(n, v) for n, v, _ in parts],
                                   transformer_weights={n: w for n, _, w in parts})
        with _no_words_is_invalid():
            return self._union.fit_transform(texts).tocsr()

    def transform(self, texts: Sequence[str]) -> Any:
        if self._union is None:
            raise QualcodeError("the TF-IDF featuriser is used before it was fitted")
        return self._union.transform(list(texts)).tocsr()

    def readable_blocks(self) -> dict[str, tuple[int, np.ndarray]]:
        """The blocks a person can read, name -> (first column, term of each column): the
        segment's word n-grams ("word") and its context's ("context"); not the char n-grams."""
        out = {}
        for name, offset, vec in self._blocks():
            if name in ("word", "context"):
                out[name] = (offset, vec.get_feature_names_out())
        return out

    def word_char_grams(self) -> tuple[tuple[int, int], Any] | None:
        """The char n-gram block's columns (first, end) and which of its n-grams each column
        of the word block holds (word columns x char columns, 1 where a single word's
        padded form yields the gram; 0 rows for word pairs), so that the char n-grams'
        share of a score can be credited to words."""
        from scipy import sparse

        blocks = {name: (offset, vec) for name, offset, vec in self._blocks()}
        if "word" not in blocks or "char" not in blocks:
            return None
        (_, words), (first, chars) = blocks["word"], blocks["char"]
        analyse, vocab = chars.build_analyzer(), chars.vocabulary_
        rows, cols = [], []
        for i, term in enumerate(words.get_feature_names_out()):
            if " " not in term:
                found = {vocab[g] for g in analyse(term) if g in vocab and len(g.strip()) >= MIN_CREDITED_GRAM}
                rows += [i] * len(found)
                cols += sorted(found)
        grams = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)),
                                  shape=(len(words.vocabulary_), len(vocab)))
        return (first, first + len(vocab)), grams

    def _blocks(self) -> list[tuple[str, int, Any]]:
        """(name, first column, fitted vectoriser) of each block, in column order."""
        if self._union is None:
            raise QualcodeError("the TF-IDF featuriser is used before it was fitted")
        out, offset = [], 0
        for name, vec in self._union.transformer_list:
            out.append((name, offset, vec))
            offset += len(vec.vocabulary_)
        return out

    def cross_fit(self, texts: Sequence[str]) -> Callable[[np.ndarray], Any]:
        """Count n-grams once; each call then gives what a TfidfVectorizer fitted on
        ``texts[rows]`` gives for all texts (vocabulary and IDF from those rows only), with
        the columns of terms absent from those rows kept but all zero."""
        from scipy import sparse
        from sklearn.feature_extraction.text import CountVectorizer

        texts = list(texts)
        weights = [w for _, _, w in self._parts(CountVectorizer)]
        found = [(b, w) for b, w in zip(self._count_blocks(CountVectorizer, texts), weights)
                 if b is not None]
        blocks = [b for b, _ in found]
        nb = len(blocks)
        tf = sparse.hstack(blocks, format="csr").astype(np.float64)
        tf.sum_duplicates()
        np.log(tf.data, out=tf.data)
        tf.data += 1.0  # sublinear tf
        n = tf.shape[0]
        row_of = np.repeat(np.arange(n), np.diff(tf.indptr))
        starts = np.cumsum([0] + [b.shape[1] for b in blocks])
        block_of = np.searchsorted(starts, tf.indices, side="right") - 1
        scale = np.array([w for _, w in found])[block_of]
        # each (row, block) pair is normalised on its own, as FeatureUnion does
        part = row_of * nb + block_of

        def matrix(rows: np.ndarray) -> Any:
            in_rows = np.zeros(n, dtype=bool)
            in_rows[np.asarray(rows)] = True
            df = np.bincount(tf.indices[in_rows[row_of]], minlength=tf.shape[1])
            idf = np.where(df > 0, np.log((1.0 + in_rows.sum()) / (1.0 + df)) + 1.0, 0.0)
            data = tf.data * idf[tf.indices]
            norms = np.sqrt(np.bincount(part, weights=data * data, minlength=nb * n))
            norms[norms == 0] = 1.0
            data /= norms[part]
            data *= scale
            x = sparse.csr_matrix((data, tf.indices.copy(), tf.indptr.copy()), shape=tf.shape)
            x.eliminate_zeros()
            return x

        return matrix


# --- calibration ---------------------------------------------------------------------------
def _expit(z: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return expit(z)


def platt_scale(scores: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None
                ) -> tuple[float, float]:
    """Fit ``p = expit(a * score + b)`` by Newton's method on Platt's smoothed targets.

    ``a`` is kept >= 0: a code whose scores rank the wrong way gets a constant probability
    rather than an inverted one.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(y, dtype=bool)
    w = np.ones_like(s) if weights is None else np.asarray(weights, dtype=np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if s.shape != y.shape or s.ndim != 1 or not n_pos or not n_neg:
        raise InvalidInput("platt_scale needs one score per label and both classes present")
    t = np.where(y, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

    def loss(a: float, b: float) -> float:
        z = a * s + b
        return float(np.sum(w * (t * np.logaddexp(0, -z) + (1 - t) * np.logaddexp(0, z))))

    a, b = 0.0, math.log((n_pos + 1.0) / (n_neg + 1.0))
    cur = loss(a, b)
    for _ in range(100):  # Newton's method with a backtracking (Armijo) line search
        p = _expit(a * s + b)
        r, h = w * (p - t), w * p * (1 - p) + 1e-12
        g = np.array([np.dot(r, s), r.sum()])
        if np.max(np.abs(g)) < 1e-11 * max(1.0, float(w.sum())):
            break
        hess = np.array([[np.dot(h, s * s), np.dot(h, s)], [np.dot(h, s), h.sum()]])
        step = np.linalg.solve(hess + 1e-12 * np.eye(2), g)
        lr = 1.0
        while True:
            na, nb = a - lr * step[0], b - lr * step[1]
            new = loss(na, nb)
            if new <= cur - 1e-4 * lr * float(np.dot(g, step)) or lr < 1e-10:
                break
            lr /= 2
        if new > cur:
            break
        done = cur - new <= 1e-15 * max(1.0, cur)
        a, b, cur = na, nb, new
        if done:
            break
    if a < 0:  # the best constant: expit(b) = weighted mean target
        a, m = 0.0, float(np.dot(w, t) / w.sum())
        b = math.log(m / (1 - m))
    return float(a), float(b)


# --- training ----------------------------------------------------------------------------
@dataclass
class TrainResult:
    """A trained model, its cross-validated per-code report, and the codes left out."""

    model: CodeClassifier
    report: pd.DataFrame
    skipped: pd.DataFrame


def _ancestors(parent_of: Mapping[str, str | None]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for code in parent_of:
        chain: list[str] = []
        seen = {code}
        parent = parent_of[code]
        while parent is not None:
            if parent not in parent_of:
                raise InvalidInput(f"parent {parent!r} is not in the code hierarchy", code=code)
            if parent in seen:
                raise InvalidInput(f"the code hierarchy has a cycle through {parent!r}",
                                   code=code)
            chain.append(parent)
            seen.add(parent)
            parent = parent_of[parent]
        out[code] = tuple(chain)
    return out


def _checked(e: Any, i: int, where: str, known: Mapping[str, Any]) -> TrainingExample:
    if not isinstance(e, TrainingExample):
        raise InvalidInput(f"{where}[{i}] is a {type(e).__name__}, not a TrainingExample")
    if not isinstance(e.text, str):
        raise InvalidInput(f"{where}[{i}]: text must be a string")
    if isinstance(e.codes, str):
        raise InvalidInput(f"{where}[{i}]: codes must be a set of code ids, not a string")
    codes = frozenset(e.codes)
    for c in codes:
        if c not in known:
            raise InvalidInput(f"{where}[{i}] is coded with a code not in the codebook", code=c)
    if not (isinstance(e.weight, (int, float)) and math.isfinite(e.weight) and e.weight > 0):
        raise InvalidInput(f"{where}[{i}]: weight must be a positive number, got {e.weight!r}")
    return e if codes == e.codes else replace(e, codes=codes)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _fit_lr(x: Any, y: np.ndarray, w: np.ndarray, c: float, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    # dual coordinate descent is ~2x faster when features outnumber samples (char n-grams)
    est = LogisticRegression(C=c, class_weight="balanced", solver="liblinear",
                             dual=bool(x.shape[1] > x.shape[0]), max_iter=1000,
                             random_state=seed)
    return est.fit(x, y, sample_weight=w)


def _oof_scores(x: Any, rows: np.ndarray, extra: np.ndarray, y: np.ndarray, w: np.ndarray,
                k: int, c: float, seed: int) -> np.ndarray:
    """Out-of-fold decision scores for ``rows`` (stratified k-fold, features ``x`` as given);
    the ``extra`` rows (seeds) are always on the training side."""
    from sklearn.model_selection import StratifiedKFold

    out = np.empty(len(rows))
    for tr, te in StratifiedKFold(k, shuffle=True, random_state=seed).split(rows, y[rows]):
        fit_rows = np.concatenate([rows[tr], extra])
        out[te] = _fit_lr(x[fit_rows], y[fit_rows], w[fit_rows], c, seed).decision_function(
            x[rows[te]])
    return out


def _folds_for(y: np.ndarray, wanted: int) -> int:
    pos = int(y.sum())
    return min(wanted, pos, len(y) - pos)


def _cv_code(cross: Callable[[np.ndarray], Any], human: np.ndarray, extra: np.ndarray,
             y: np.ndarray, w: np.ndarray, k: int, c: float, seed: int, evaluate: bool
             ) -> tuple[np.ndarray, np.ndarray | None]:
    """Out-of-fold decision scores with the featuriser refitted in each fold, and (if
    ``evaluate``) out-of-fold probabilities calibrated by an inner cross-validation inside
    each training fold, as a Pipeline(featuriser, CalibratedClassifierCV) would be."""
    from sklearn.model_selection import StratifiedKFold

    scores = np.empty(len(human))
    probs = np.empty(len(human)) if evaluate else None
    for tr, te in StratifiedKFold(k, shuffle=True, random_state=seed).split(human, y[human]):
        fit_rows = np.concatenate([human[tr], extra])
        xf = cross(fit_rows)
        est = _fit_lr(xf[fit_rows], y[fit_rows], w[fit_rows], c, seed)
        scores[te] = est.decision_function(xf[human[te]])
        if probs is not None:
            inner = human[tr]
            kk = _folds_for(y[inner], CALIBRATION_FOLDS)
            a, b = (platt_scale(_oof_scores(xf, inner, extra, y, w, kk, c, seed), y[inner],
                                w[inner]) if kk >= 2 else (1.0, 0.0))
            probs[te] = _expit(a * scores[te] + b)
    return scores, probs


def _model_id(name: str, params: dict[str, Any], rows: Sequence[TrainingExample]) -> str:
    h = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode())
    for e in rows:
        h.update(json.dumps([e.text, sorted(e.codes), e.weight, e.origin]).encode())
    return f"{name}:{h.hexdigest()[:12]}"


def train(examples: Iterable[TrainingExample], parent_of: Mapping[str, str | None], *,
          min_examples: int = 5, seed: int = 0, cv_folds: int = 5,
          seeds: Sequence[TrainingExample] = (), C: float = 4.0,
          featuriser: Featuriser | None = None,
          codebook_version: str | int | None = None, evaluate: bool = True,
          progress: Progress | None = None) -> TrainResult:
    """Train one calibrated classifier per code and cross-validate it on human examples.

    A coding on a sub-code counts for its ancestors too. A code is trained on human evidence
    when it has ``min_examples`` human positives and 5 human negatives; short of that it is
    still trained when ``seeds`` give it at least one positive (basis "seed": raw logistic
    probabilities, not evaluated); otherwise it is listed in ``skipped``.
    ``evaluate=False`` skips the nested calibration of the report (about half the time; the
    report's metric columns are then NaN, the model is the same). ``progress`` is called
    with ("cross-validating codes", done, total) before each code and once at the end.
    """
    import pandas as pd
    import sklearn
    from sklearn.metrics import average_precision_score, precision_recall_fscore_support

    if min_examples < 2:
        raise InvalidInput(f"min_examples must be at least 2, got {min_examples}")
    if cv_folds < 2:
        raise InvalidInput(f"cv_folds must be at least 2, got {cv_folds}")
    if not C > 0:
        raise InvalidInput(f"C must be positive, got {C}")
    anc = _ancestors(parent_of)
    human = [_checked(e, i, "examples", anc) for i, e in enumerate(examples)]
    for i, e in enumerate(human):
        if e.origin in SEED_ORIGINS:
            raise InvalidInput(f"examples[{i}] has origin {e.origin!r}: pass it in seeds=")
    ids = [e.segment_id for e in human if e.segment_id is not None]
    if len(ids) != len(set(ids)):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise InvalidInput(f"segments coded twice in the training examples: {dup}; "
                           "pass one accepted coding per segment")
    human_ids, human_texts = set(ids), {_norm(e.text) for e in human}
    seed_rows = [s for s in (_checked(e, i, "seeds", anc) for i, e in enumerate(seeds))
                 if not (s.origin == "rule" and s.segment_id in human_ids)
                 and _norm(s.text) not in human_texts and s.text.strip()]
    rows = human + seed_rows
    if not rows:
        raise InvalidInput("nothing to train on: no coded examples and no seed examples")

    codes = list(parent_of)
    col = {c: j for j, c in enumerate(codes)}
    y_all = np.zeros((len(rows), len(codes)), dtype=bool)
    for r, e in enumerate(rows):
        for c in e.codes:
            y_all[r, [col[x] for x in (c, *anc[c])]] = True
    w = np.array([float(e.weight) for e in rows])
    n_h = len(human)
    hum, ext = np.arange(n_h), np.arange(n_h, len(rows))
    hp, sp = y_all[:n_h].sum(0), y_all[n_h:].sum(0)
    hn, sn = n_h - hp, len(seed_rows) - sp

    basis: dict[str, str] = {}
    skipped = []
    for c, j in col.items():
        if hp[j] >= min_examples and hn[j] >= MIN_NEGATIVES:
            basis[c] = "human"
        elif sp[j] >= 1 and hn[j] + sn[j] >= MIN_NEGATIVES:
            basis[c] = "seed"
        else:
            need_pos = max(0, min_examples - int(hp[j]))
            need_neg = max(0, MIN_NEGATIVES - int(hn[j]))
            reason = (f"needs {need_pos} more positive example(s)" if need_pos else
                      f"needs {need_neg} more example(s) not coded {c!r}")
            skipped.append({"code": c, "positives": int(hp[j]), "needed": need_pos,
                            "negatives": int(hn[j]), "reason": reason})
    skipped_df = pd.DataFrame(skipped, columns=["code", "positives", "needed", "negatives",
                                                "reason"])
    if not basis:
        short = ", ".join(f"{s['code']} ({s['reason']})" for s in skipped[:5])
        raise InvalidInput(f"no code has enough examples to train on: {short}")

    feat: Featuriser = featuriser if featuriser is not None else TfidfFeaturiser()
    texts = [joined(e.text, e.context) for e in rows]
    cross = feat.cross_fit(texts) if "human" in basis.values() else None
    report, cal, info = [], {}, {}
    for c in codes:
        if c not in basis:
            continue
        if progress is not None:
            progress("cross-validating codes", len(report), len(basis))
        j = col[c]
        y = y_all[:, j]
        entry = {"code": c, "support": int(hp[j]), "precision": np.nan, "recall": np.nan,
                 "f1": np.nan, "avg_precision": np.nan, "folds": 0, "basis": basis[c]}
        cal[c] = (1.0, 0.0)
        if basis[c] == "human":
            k = _folds_for(y[hum], cv_folds)
            scores, probs = _cv_code(cross, hum, ext, y, w, k, C, seed, evaluate)
            entry["folds"] = k
            if probs is not None:
                pr, rc, f1, _ = precision_recall_fscore_support(
                    y[hum], probs >= 0.5, average="binary", zero_division=0)
                entry.update(precision=float(pr), recall=float(rc), f1=float(f1),
                             avg_precision=float(average_precision_score(y[hum], probs)))
            cal[c] = platt_scale(scores, y[hum], w[hum])
        report.append(entry)
        info[c] = {"basis": basis[c], "calibrated": basis[c] == "human",
                   "positives": int(hp[j]), "seed_positives": int(sp[j]),
                   "platt_a": cal[c][0], "platt_b": cal[c][1]}

    if progress is not None:
        progress("cross-validating codes", len(report), len(basis))
    x = feat.fit_transform(texts)
    trained = [c for c in codes if c in basis]
    estimators = {c: _fit_lr(x, y_all[:, col[c]], w, C, seed) for c in trained}
    params = {"C": C, "class_weight": "balanced", "solver": "liblinear",
              "dual": "when features > samples", "seed": seed,
              "min_examples": min_examples, "cv_folds": cv_folds,
              "calibration": "platt on out-of-fold decision scores (human examples)",
              "featuriser": {"name": feat.name, **feat.params()}}
    name = f"{feat.name}-logreg"
    metadata = {
        "name": name, "model_id": _model_id(name, params, rows),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "n_examples": n_h, "n_seed_examples": len(seed_rows),
        "codebook_version": codebook_version, "sklearn_version": sklearn.__version__,
        "params": params, "code_info": info,
    }
    model = CodeClassifier(
        featuriser=feat, codes=trained,
        coef=np.vstack([estimators[c].coef_[0] for c in trained]).T,
        intercept=np.array([estimators[c].intercept_[0] for c in trained]),
        cal_a=np.array([cal[c][0] for c in trained]), cal_b=np.array([cal[c][1] for c in trained]),
        parent_of=dict(parent_of), metadata=metadata, estimators=estimators)
    report_df = pd.DataFrame(report, columns=["code", "support", "precision", "recall", "f1",
                                              "avg_precision", "folds", "basis"])
    return TrainResult(model=model, report=report_df, skipped=skipped_df)


# --- the model -----------------------------------------------------------------------------
class CodeClassifier:
    """A trained multi-code classifier: ``p = expit(a * (x . w + w0) + b)`` per code."""

    source = "classifier"

    def __init__(self, *, featuriser: Featuriser, codes: Sequence[str], coef: np.ndarray,
                 intercept: np.ndarray, cal_a: np.ndarray, cal_b: np.ndarray,
                 parent_of: Mapping[str, str | None], metadata: dict[str, Any],
                 estimators: Mapping[str, Any] | None = None) -> None:
        self.featuriser = featuriser
        self._codes = tuple(codes)
        self.coef = np.ascontiguousarray(coef, dtype=np.float64)  # (n_features, n_codes)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.cal_a = np.asarray(cal_a, dtype=np.float64)
        self.cal_b = np.asarray(cal_b, dtype=np.float64)
        self.parent_of = dict(parent_of)
        self.metadata = metadata
        self._estimators = dict(estimators) if estimators is not None else None
        anc = _ancestors(self.parent_of)
        self._implies = {c: frozenset(anc[c]) for c in self._codes}

    @property
    def codes(self) -> tuple[str, ...]:
        """The trained codes, in codebook order (the columns of ``predict_proba``)."""
        return self._codes

    @property
    def name(self) -> str:
        return str(self.metadata["name"])

    @staticmethod
    def _texts(texts: Iterable[str]) -> list[str]:
        out = [] if isinstance(texts, str) else list(texts)
        if isinstance(texts, str) or not all(isinstance(t, str) for t in out):
            raise InvalidInput("expected a list of texts")
        return out

    def vectorise(self, texts: Iterable[str], contexts: Iterable[str] | None = None) -> Any:
        """The sparse feature matrix of ``texts`` (the slow, text-processing half), each
        with its context (the turn before it) when ``contexts`` is given."""
        return self.featuriser.transform(self._inputs(texts, contexts))

    def _inputs(self, texts: Iterable[str], contexts: Iterable[str] | None) -> list[str]:
        texts = self._texts(texts)
        if contexts is None:
            return texts
        ctx = self._texts(contexts)
        if len(ctx) != len(texts):
            raise InvalidInput(f"{len(texts)} texts but {len(ctx)} contexts")
        return [joined(t, c) for t, c in zip(texts, ctx)]

    def scores_from_matrix(self, x: Any) -> np.ndarray:
        """Calibrated probabilities (n, n_codes) from a feature matrix: one sparse product."""
        if x.shape[1] != self.coef.shape[0]:
            raise InvalidInput(f"feature matrix has {x.shape[1]} columns, the model "
                               f"expects {self.coef.shape[0]}")
        z = np.asarray(x @ self.coef)
        z += self.intercept
        z *= self.cal_a
        z += self.cal_b  # in place: no extra (n, n_codes) temporaries
        return _expit(z)

    def predict_proba(self, texts: Iterable[str], contexts: Iterable[str] | None = None
                      ) -> np.ndarray:
        """Calibrated probability of every trained code for each text (with its context, the
        turn before it, when given), shape (n, n_codes)."""
        texts = self._texts(texts)
        ctx = None if contexts is None else self._texts(contexts)
        if ctx is not None and len(ctx) != len(texts):
            raise InvalidInput(f"{len(texts)} texts but {len(ctx)} contexts")
        parts = [self.scores_from_matrix(self.vectorise(
                     texts[i:i + CHUNK], None if ctx is None else ctx[i:i + CHUNK]))
                 for i in range(0, len(texts), CHUNK)]  # chunks bound the sparse matrix
        return np.vstack(parts) if parts else np.zeros((0, len(self._codes)))

    def predict_proba_reference(self, texts: Iterable[str]) -> np.ndarray:
        """Slow path, one sklearn estimator per code (only on a freshly trained model)."""
        if self._estimators is None:
            raise QualcodeError("the per-code estimators are not kept in saved models; "
                                "the reference path needs a freshly trained model")
        x = self.vectorise(texts)
        cols = [_expit(self.cal_a[j] * self._estimators[c].decision_function(x) + self.cal_b[j])
                for j, c in enumerate(self._codes)]
        return np.column_stack(cols) if cols else np.zeros((x.shape[0], 0))

    def suggest(self, segments: Iterable[SegmentInput], threshold: float = 0.5, *,
                evidence: bool = True) -> list[Suggestion]:
        """Codes with probability >= threshold; an ancestor is dropped when a descendant of
        it is suggested too (a sub-code implies its ancestors). Most probable first.

        With ``evidence`` each suggestion's provenance also names the words that raised its
        score most (``evidence``: term, the text it matched, its span in the document and
        its weight in log-odds) and the words of the turn before it (``context_evidence``).
        """
        if not 0.0 <= threshold <= 1.0:
            raise InvalidInput(f"threshold must be between 0 and 1, got {threshold}")
        segs = []
        for s in segments:
            if not isinstance(s, SegmentInput):
                raise InvalidInput(f"expected a SegmentInput, got {type(s).__name__}")
            if s.text.strip():
                segs.append(s)
        out: list[Suggestion] = []
        for i in range(0, len(segs), CHUNK):  # chunks bound the sparse matrix
            chunk = segs[i:i + CHUNK]
            x = self.vectorise([s.text for s in chunk], [s.context for s in chunk])
            picked = self._pick(self.scores_from_matrix(x), threshold)
            why = self._evidence(x, chunk, picked) if evidence else [{}] * len(picked)
            for (r, j, p), extra in zip(picked, why):
                out.append(Suggestion(
                    segment_id=chunk[r].id, code=self._codes[j], source=self.source,
                    confidence=p,
                    provenance={"model": self.name, "model_id": self.metadata["model_id"],
                                "score": round(p, 4), "threshold": float(threshold), **extra}))
        return out

    def _pick(self, probs: np.ndarray, threshold: float) -> list[tuple[int, int, float]]:
        """(row, code column, p) of each suggestion, rows in order, most probable first."""
        picked = []
        for r, row in enumerate(probs):
            hits = np.flatnonzero(row >= threshold)
            if not hits.size:
                continue
            implied = frozenset().union(*(self._implies[self._codes[j]] for j in hits))
            picked += [(r, int(j), float(row[j])) for j in sorted(hits, key=lambda j: (-row[j], j))
                       if self._codes[j] not in implied]
        return picked

    def _readable(self) -> dict[str, Any]:
        """Per readable block, ((first column, end), terms), and under "chars" the char
        block's columns and the words' n-grams (see ``word_char_grams``); {} for a
        featuriser without readable features (sentence embeddings alone)."""
        cached = self.__dict__.get("_readable_cache")
        if cached is None:
            blocks = getattr(self.featuriser, "readable_blocks", None)
            cached = {name: ((offset, offset + len(terms)), terms)
                      for name, (offset, terms) in (blocks() if blocks else {}).items()}
            grams = getattr(self.featuriser, "word_char_grams", None)
            if "word" in cached and grams is not None and grams() is not None:
                cached["chars"] = grams()
            self._readable_cache = cached
        return cached

    def _evidence(self, x: Any, chunk: Sequence[SegmentInput],
                  picked: Sequence[tuple[int, int, float]]) -> list[dict[str, Any]]:
        from qualcode.coding.evidence import explain

        return explain(x, chunk, picked, self.coef, self.cal_a, self._readable(),
                       {"word": EVIDENCE_WORDS, "context": EVIDENCE_CONTEXT})

    # --- persistence ---------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """Serialise (pickle with a format header). Load only models you saved yourself."""
        import sklearn

        state = {k: getattr(self, k) for k in
                 ("featuriser", "coef", "intercept", "cal_a", "cal_b", "parent_of", "metadata")}
        state["codes"] = list(self._codes)
        header = {"format": FORMAT, "version": FORMAT_VERSION,
                  "sklearn": sklearn.__version__}
        return pickle.dumps((header, pickle.dumps(state, protocol=5)), protocol=5)

    @classmethod
    def from_bytes(cls, data: bytes) -> CodeClassifier:
        """Load a model saved by :meth:`to_bytes`; refuse other formats and versions."""
        import sklearn

        try:
            header, inner = pickle.loads(data)
        except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError,
                ImportError, IndexError, KeyError) as exc:
            raise QualcodeError(f"not a saved qualcode classifier ({exc})") from exc
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise QualcodeError("not a saved qualcode classifier")
        if header.get("version") != FORMAT_VERSION:
            raise QualcodeError(f"classifier saved in format version {header.get('version')}, "
                                f"this qualcode reads version {FORMAT_VERSION}: retrain it")
        mine, theirs = sklearn.__version__.split(".")[:2], str(header.get("sklearn")).split(".")[:2]
        if mine != theirs:
            raise QualcodeError(f"classifier saved with scikit-learn {header.get('sklearn')}, "
                                f"this is {sklearn.__version__}: retrain it")
        return cls(**pickle.loads(inner))


# --- cold start --------------------------------------------------------------------------
def seed_examples_from_codebook(codes: Iterable[Any], *, weight: float = 0.5
                                ) -> list[TrainingExample]:
    """Seed texts from a codebook (name + definition, each include criterion, the example),
    so the classifier can suggest before any human coding exists. Exclude criteria are not
    used: they say what a code is not, not which code a text is."""
    out: list[TrainingExample] = []
    for code in codes:
        try:
            cid, name, definition = code.id, code.name or "", code.definition or ""
            include, example = list(code.include or []), code.example or ""
        except AttributeError as exc:
            raise InvalidInput(f"codebook entry {code!r} lacks a field: {exc}") from exc
        head = ". ".join(t.strip().rstrip(".") for t in (name, definition) if t.strip())
        seen: set[str] = set()
        for text in (head, *include, example):
            text = " ".join(str(text).split())
            if text and _norm(text) not in seen:
                seen.add(_norm(text))
                out.append(TrainingExample(text, frozenset({cid}), weight=weight,
                                           origin="codebook"))
    return out


def weak_examples_from_rules(segments: Iterable[SegmentInput],
                             suggestions: Iterable[Suggestion], *, weight: float = 0.5
                             ) -> list[TrainingExample]:
    """Weak labels from rule suggestions: each segment a rule fired on, with all the codes
    the rules proposed. Segments no rule fired on are left out (unknown, not negative);
    suggestions from other sources (the classifier itself) are ignored."""
    segs = {s.id: s for s in segments}
    codes: dict[int, set[str]] = {}
    for sug in suggestions:
        if sug.source == "rule" and sug.segment_id in segs:
            codes.setdefault(sug.segment_id, set()).add(sug.code)
    return [TrainingExample(s.text, frozenset(codes[i]), role=s.role, segment_id=i,
                            weight=weight, origin="rule", context=s.context)
            for i, s in segs.items() if i in codes]
