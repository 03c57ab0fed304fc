"""Machine help in a project: run the assistants, train the classifier, pick what to code next."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Sequence

from qualcode.coding.base import SegmentInput, previous_turns, turn_text
from qualcode.errors import InvalidInput, QualcodeError
from qualcode.store.codings import SuggestResult, human_decisions, reviewed_segments, store_suggestions
from qualcode.store.models import latest_model, save_model
from qualcode.store.repo import Store

if TYPE_CHECKING:
    import pandas as pd

    from qualcode.coding.classifier import CodeClassifier, Progress, TrainResult
    from qualcode.coding.combine import CombinePolicy

METHODS = ("rules", "classifier", "all")
MODEL_NAME = "classifier"


def segment_inputs(store: Store) -> list[SegmentInput]:
    """Every segment eligible for coding, as the assistants see it, with the turn before it
    (usually the interviewer's question) as its context."""
    rows = store.segment_rows(all_roles=True)
    before = previous_turns(rows)
    return [
        SegmentInput(
            id=r["segment_id"], text=r["text"], role=r["role"], document=r["document"],
            site=r["site"], start=r["start"], end=r["end"],
            context=turn_text(before[r["segment_id"]]),
        )
        for r in rows
        if r["role"] != "interviewer"
    ]


def load_classifier(store: Store) -> "CodeClassifier | None":
    """The project's newest trained classifier, or None before `qualcode train`."""
    from qualcode.coding.classifier import CodeClassifier

    found = latest_model(store, MODEL_NAME)
    return None if found is None else CodeClassifier.from_bytes(found[1])


def suggest(store: Store, method: str = "all", *, threshold: float | None = None
            ) -> dict[str, SuggestResult]:
    """Run the rules and/or the classifier over every segment and store their suggestions.

    ``all`` with a trained model applies the model's combine policy (see
    :mod:`qualcode.coding.combine`): rule hits the classifier finds implausible for their
    theme are dropped, and the classifier suggests alone above the policy's threshold
    (``threshold`` overrides it). ``classifier`` alone uses ``threshold`` or 0.5.
    Each method's earlier open suggestions are replaced; decisions are never touched.
    """
    if method not in METHODS:
        raise InvalidInput(f"unknown method {method!r} (choose from {', '.join(METHODS)})")
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise InvalidInput(f"threshold must be between 0 and 1, got {threshold}")
    segs = segment_inputs(store)
    results: dict[str, SuggestResult] = {}
    model = load_classifier(store) if method in ("classifier", "all") else None
    if method == "classifier" and model is None:
        raise QualcodeError("no trained classifier yet: run `qualcode train` first")
    if method in ("rules", "all"):
        from qualcode.coding.rules import RuleAssistant

        rules = RuleAssistant(store.codebook())
        policy = combine_policy(model) if method == "all" and model is not None else None
        if policy is not None:
            from qualcode.coding.combine import CombinedAssistant

            if threshold is not None:
                policy = replace(policy, hi=threshold)
            both = CombinedAssistant(rules, model, policy).suggest(segs)  # type: ignore[arg-type]
            for source in ("rule", "classifier"):
                results[source] = store_suggestions(
                    store, [s for s in both if s.source == source], source)
            return results
        results["rule"] = store_suggestions(store, rules.suggest(segs), "rule")
    if model is not None:
        cut = 0.5 if threshold is None else threshold
        results["classifier"] = store_suggestions(store, model.suggest(segs, threshold=cut), "classifier")
    return results


def combine_policy(model: "CodeClassifier") -> "CombinePolicy | None":
    """The rules-and-classifier policy saved with a model at training time, if any."""
    from qualcode.coding.combine import CombinePolicy

    return CombinePolicy.from_dict(model.metadata.get("combine"))


def human_examples(store: Store, coders: Sequence[str] | None = None) -> list:
    """Training examples from people: every segment a person coded, with the codes they
    accepted or added (none = a negative example for every code)."""
    from qualcode.coding.classifier import TrainingExample

    segs = {s.id: s for s in segment_inputs(store)}
    reviewed, accepted = human_decisions(store)
    wanted = set(coders) if coders else None
    labels: dict[int, set[str]] = defaultdict(set)
    covered: set[int] = set()
    for seg_id, coder in reviewed:
        if wanted is None or coder in wanted:
            covered.add(seg_id)
    for seg_id, coder, code in accepted:
        if wanted is None or coder in wanted:
            covered.add(seg_id)
            labels[seg_id].add(code)
    return [
        TrainingExample(segs[i].text, frozenset(labels.get(i, ())), role=segs[i].role, segment_id=i,
                        context=segs[i].context)
        for i in sorted(covered)
        if i in segs
    ]


@dataclass
class TrainOutcome:
    result: "TrainResult"
    model_id: int
    n_human: int
    n_seed: int
    n_weak: int = 0


def train(
    store: Store,
    *,
    coders: Sequence[str] | None = None,
    min_examples: int = 5,
    cold_start: bool = True,
    weak_labels: bool | None = None,
    evaluate: bool = True,
    combine: bool = True,
    context: bool = True,
    progress: "Progress | None" = None,
    n_jobs: int | None = None,
) -> TrainOutcome:
    """Train the classifier on the project's human codings and save it in the project.

    With ``cold_start`` the codebook's definitions, include criteria and examples are added
    as seed texts (never counted in the cross-validated report). ``weak_labels`` adds the
    rules' hits on segments nobody has coded, at half weight (True), leaves them out (False),
    or (None, the default) lets cross-validation grouped by document decide: measured by
    scripts/bench-quality, they lift a classifier with 0-50 human-coded segments a long way
    and cost a little once there are several hundred. With fewer than 3 coded documents
    there is nothing to cross-validate and None means True. With ``combine`` the
    rules-and-classifier policy is chosen by the same cross-validation and saved with the
    model. ``progress(stage, done, total)`` follows the long steps. ``context=False`` trains
    on each segment's own words, without the turn before it. ``n_jobs`` caps the worker
    processes that train the cross-validation's fold models (default: one per CPU, at most 4).
    """
    from qualcode.coding import classifier as clf
    from qualcode.coding.combine import WEAK_WEIGHTS, fit_policy
    from qualcode.coding.rules import RuleAssistant

    codebook = store.codebook()
    examples = human_examples(store, coders)
    segments = segment_inputs(store)
    if not context:
        examples = [replace(e, context="") for e in examples]
        segments = [replace(s, context="") for s in segments]
    seeds = clf.seed_examples_from_codebook(codebook.codes) if cold_start else []
    parent_of = {c.id: c.parent for c in codebook.codes}
    rules = RuleAssistant(codebook)
    coded = {e.segment_id for e in examples}
    uncoded = [s for s in segments if s.id not in coded]
    weights = WEAK_WEIGHTS if weak_labels is None else ((0.5,) if weak_labels else (0.0,))
    policy = None
    if examples and (combine or weak_labels is None):
        policy = fit_policy(examples, segments, rules, parent_of, seeds=seeds, uncoded=uncoded,
                            weak_weights=weights, min_examples=min_examples, progress=progress,
                            n_jobs=n_jobs)
    weight = policy.weak_weight if policy is not None else max(weights)
    weak = (clf.weak_examples_from_rules(uncoded, rules.suggest(uncoded), weight=weight)
            if weight > 0 else [])
    if not examples and not seeds and not weak:
        raise QualcodeError("nothing to learn from: import or review some codings first (or use --cold-start)")
    result = clf.train(
        examples, parent_of, min_examples=min_examples, seeds=[*seeds, *weak],
        codebook_version=store.codebook_version(), evaluate=evaluate,
        featuriser=None if context else clf.TfidfFeaturiser(context_weight=0.0),
        progress=progress,
    )
    if combine and policy is not None:
        result.model.metadata["combine"] = policy.to_dict()
    info = dict(result.model.metadata)
    info.update(n_human=len(examples), n_seed=len(seeds), n_weak=len(weak),
                weak_labels="chosen by cross-validation" if weak_labels is None else weak_labels,
                context=context,
                codes=list(result.model.codes))
    model_id = save_model(store, MODEL_NAME, _jsonable(info), result.model.to_bytes())
    return TrainOutcome(result, model_id, len(examples), len(seeds), len(weak))


def _jsonable(value):  # noqa: ANN001, ANN202
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def next_segments(store: Store, n: int = 20, strategy: str = "margin") -> "pd.DataFrame":
    """The uncoded segments whose coding would help the classifier most, spread across
    documents and sites (a spread sample when no model is trained yet)."""
    from qualcode.coding.active import select_next

    done = reviewed_segments(store)
    pool = [s for s in segment_inputs(store) if s.id not in done]
    return select_next(load_classifier(store), pool, n=n, strategy=strategy)
