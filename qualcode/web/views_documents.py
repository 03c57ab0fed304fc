"""Reading views: choosing a coder name, the documents table and the transcript."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, session

from qualcode.errors import ProjectError
from qualcode.web import viewmodel
from qualcode.web.app import project
from qualcode.web.security import coder_required, safe_next, valid_coder

coder_bp = Blueprint("coder", __name__)
bp = Blueprint("documents", __name__)


@coder_bp.route("/coder", methods=["GET", "POST"])
def choose() -> Any:
    """The coder names themselves; the name lives in the session and signs every decision."""
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("coder.html", next=target, name=g.get("coder") or "", error=None)
    name = " ".join(request.form.get("name", "").split())
    problem = valid_coder(name)
    if problem:
        return render_template("coder.html", next=target, name=name, error=problem), 400
    session["coder"] = name
    return redirect(target)


def load_document(doc_id: int) -> dict[str, Any]:
    """The document, or a 404."""
    try:
        return project().store.document(doc_id)
    except ProjectError:
        abort(404, description=f"there is no document {doc_id} in this project")


@bp.route("/")
@coder_required
def index() -> str:
    """Documents with their counts, filtered by site, role, wave and coding status."""
    args = {k: request.args.get(k, "").strip() for k in ("site", "role", "wave", "status")}
    if args["status"] not in ("", *viewmodel.STATUS_FILTERS):
        args["status"] = ""
    listing = viewmodel.document_list(project().store, g.coder, **args)
    return render_template("documents.html", listing=listing, statuses=viewmodel.STATUS_FILTERS)


@bp.route("/documents/<int:doc_id>")
@coder_required
def transcript(doc_id: int) -> str:
    """A transcript turn by turn, with this coder's suggestions, decisions and added codes."""
    doc = load_document(doc_id)
    proj = project()
    codebook = proj.codebook()
    view = viewmodel.transcript(proj.store, codebook, doc, g.coder)
    return render_template("transcript.html", view=view, doc=doc, tree=viewmodel.code_tree(codebook))


@bp.route("/documents/<int:doc_id>/segments/<int:segment_id>/code")
@coder_required
def code_segment(doc_id: int, segment_id: int) -> str:
    """Apply a code to one turn without JavaScript: the codebook as a list of choices."""
    doc = load_document(doc_id)
    proj = project()
    seg = next((s for s in proj.store.segment_rows(all_roles=True, document_ids=[doc_id])
                if s["segment_id"] == segment_id), None)
    if seg is None:
        abort(404, description=f"document {doc_id} has no segment {segment_id}")
    return render_template("code_segment.html", doc=doc, seg=seg, label=viewmodel.turn_label(seg["role"], seg["speaker"]),
                           tree=viewmodel.code_tree(proj.codebook()))
