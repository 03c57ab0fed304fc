"""How much of a classifier suggestion's score its shown evidence carries.

A suggestion's log-odds is a sum of (feature value x weight) over the segment's word
n-grams, character n-grams and the word n-grams of the turn before it. `suggest` shows the
three word n-grams of the segment with the largest shares (a word's share includes the
character n-grams it holds) and the two of the question. This measures, over the suggestions for one fold of development interviews (a model
trained on the other four, grouped by document; nothing held out is read), the median share
of the positive contributions carried by each block and by the words shown.

    scripts/bench_evidence.py            # about a minute; prints a markdown table
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from bench_quality_variants import folds_of, setup_dev  # noqa: E402

from qualcode.coding import classifier as clf  # noqa: E402
from qualcode.coding.base import SegmentInput  # noqa: E402
from qualcode.coding.classifier import EVIDENCE_CONTEXT, EVIDENCE_WORDS  # noqa: E402


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        data = setup_dev(Path(tmp))
    ex, fold = data["examples"], folds_of(data["docs"], 0)
    train = [e for e, f in zip(ex, fold) if f != 0]
    test = [e for e, f in zip(ex, fold) if f == 0]
    model = clf.train(train, data["parent_of"], seeds=data["seeds"], evaluate=False).model
    segs = [SegmentInput(id=i, text=e.text, role="", context=e.context) for i, e in enumerate(test)]
    x = model.vectorise([e.text for e in test], [e.context for e in test])
    suggestions = model.suggest(segs)
    picked = model._pick(model.scores_from_matrix(x), 0.5)
    assert [(segs[r].id, model.codes[j]) for r, j, _ in picked] == [(s.segment_id, s.code) for s in suggestions]
    blocks = {name: span for name, (span, _) in model._readable().items() if name != "chars"}
    blocks["character n-grams"] = model._readable()["chars"][0]
    rows = []
    for (r, j, _), sug in zip(picked, suggestions):
        row = x[r]
        contrib = row.data * model.coef[row.indices, j]
        total = contrib[contrib > 0].sum()
        share = {name: contrib[(contrib > 0) & (row.indices >= a) & (row.indices < b)].sum() / total
                 for name, (a, b) in blocks.items()}
        scale = model.cal_a[j]
        share["word shown"] = sum(e["weight"] for e in sug.provenance.get("evidence", [])) / (scale * total)
        share["context shown"] = sum(e["weight"] for e in sug.provenance.get("context_evidence", [])) / (scale * total)
        rows.append(share)
    keys = ["word", "word shown", "context", "context shown", "character n-grams"]
    print(f"# Evidence coverage: {len(suggestions)} suggestions on {len(test)} development segments "
          f"(fold 0 of 5, grouped by document)\n")
    print("| part of the positive contributions | median share |\n|---|---|")
    labels = {"word": "all word n-grams of the segment",
              "word shown": f"the {EVIDENCE_WORDS} words shown, with the character n-grams they hold",
              "context": "all word n-grams of the question",
              "context shown": f"the {EVIDENCE_CONTEXT} question words shown",
              "character n-grams": "all character n-grams of the segment"}
    for k in keys:
        print(f"| {labels[k]} | {np.median([s.get(k, 0.0) for s in rows]):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
