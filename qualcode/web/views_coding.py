"""Writing views: accept, reject, add, "nothing to code here" and undo, each one library call
(:func:`~qualcode.store.codings.apply_decisions`, :func:`~qualcode.store.codings.undo_last`).

Plain form posts get a redirect back to the transcript; the page's fetch calls (which ask
for JSON) get the result as JSON.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, jsonify, redirect, request, url_for

from qualcode.errors import InvalidInput
from qualcode.store.codings import Decision, apply_decisions, undo_last
from qualcode.web.app import project
from qualcode.web.security import coder_required, safe_next, wants_json
from qualcode.web.viewmodel import find_quote

bp = Blueprint("coding", __name__)


def _int(name: str) -> int | None:
    value = request.form.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, not {value!r}") from None


def _back(doc_id: int, anchor: str) -> Any:
    return redirect(url_for("documents.transcript", doc_id=doc_id) + f"#{anchor}")


@bp.route("/documents/<int:doc_id>/codings/<int:coding_id>", methods=["POST"])
@coder_required
def decide(doc_id: int, coding_id: int) -> Any:
    """Accept or reject a suggestion (or remove a code this coder added)."""
    action = request.form.get("decision", "")
    if action not in ("accept", "reject"):
        raise InvalidInput(f"decision must be accept or reject, not {action!r}")
    [target] = apply_decisions(project().store, [Decision(action, g.coder, coding_id=coding_id)])
    status = "accepted" if action == "accept" else "rejected"
    if wants_json():
        return jsonify({"coding_id": target, "previous_id": coding_id, "status": status})
    return _back(doc_id, f"c-{target}")


def _codable_segment(doc_id: int, segment_id: int) -> dict[str, Any]:
    """The document's segment (404 when it has none), refused when it is an interviewer turn."""
    seg = next((s for s in project().store.segment_rows(all_roles=True, document_ids=[doc_id])
                if s["segment_id"] == segment_id), None)
    if seg is None:
        abort(404, description=f"document {doc_id} has no segment {segment_id}")
    if seg["role"] == "interviewer":
        raise InvalidInput("interviewer turns are not coded")
    return seg


@bp.route("/documents/<int:doc_id>/segments/<int:segment_id>/codes", methods=["POST"])
@coder_required
def add(doc_id: int, segment_id: int) -> Any:
    """Apply a code to a turn, or to a span of it (document code points, or the quoted words)."""
    store = project().store
    seg = _codable_segment(doc_id, segment_id)
    code = request.form.get("code", "").strip()
    if not code:
        raise InvalidInput("choose a code to apply")
    start, end = _int("start"), _int("end")
    quote = request.form.get("quote", "")
    if start is None and end is None and quote.strip():
        found = find_quote(seg["text"], quote)
        if found is None:
            raise InvalidInput(f"the words {quote.strip()!r} are not in this turn")
        start, end = seg["start"] + found[0], seg["start"] + found[1]
    [coding_id] = apply_decisions(store, [Decision("add", g.coder, segment_id=segment_id, code=code,
                                                   start=start, end=end)])
    if wants_json():
        return jsonify({"coding_id": coding_id, "segment_id": segment_id, "code": code, "start": start, "end": end})
    return _back(doc_id, f"c-{coding_id}")


@bp.route("/documents/<int:doc_id>/segments/<int:segment_id>/reviewed", methods=["POST"])
@coder_required
def nothing_to_code(doc_id: int, segment_id: int) -> Any:
    """Record "nothing to code here": the segment is coded by this coder with no (further)
    code, the call the terminal review's ``d`` and ``import codings`` make. Open suggestions
    stay open; the review queue no longer offers the segment."""
    _codable_segment(doc_id, segment_id)
    apply_decisions(project().store, [], reviewed=[segment_id], reviewer=g.coder)
    if wants_json():
        return jsonify({"segment_id": segment_id, "reviewed": True, "coder": g.coder})
    target = request.form.get("next")
    if target:
        return redirect(safe_next(target))
    return _back(doc_id, f"seg-{segment_id}")


@bp.route("/undo", methods=["POST"])
@coder_required
def undo() -> Any:
    """Undo this coder's latest decision (one more event in the audit trail)."""
    result = undo_last(project().store, g.coder)
    if wants_json():
        return jsonify({"undone": result})
    flash(f"undid your last {result['undid']} (now {result['status']})" if result else "nothing of yours to undo")
    doc_id = _int("document_id")
    if doc_id is not None:
        return _back(doc_id, f"c-{result['coding_id']}" if result else "top")
    return redirect(url_for("documents.index"))
