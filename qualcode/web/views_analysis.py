"""Overview views: the review queue, the codebook, the theme-by-site matrix and its quotes."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from qualcode.web import pagedata
from qualcode.web.app import project
from qualcode.web.security import coder_required

bp = Blueprint("analysis", __name__)


@bp.route("/queue")
@coder_required
def queue() -> str:
    """What to code next, in the order ``next_segments`` gives."""
    n = request.args.get("n", 20, type=int) or 20
    strategy = request.args.get("strategy", "margin")
    strategy = strategy if strategy in ("margin", "entropy") else "margin"
    items = pagedata.review_queue(project().store, n=max(1, min(n, 200)), strategy=strategy)
    return render_template("queue.html", items=items, n=n, strategy=strategy)


@bp.route("/codebook")
@coder_required
def codebook() -> str:
    """The codebook tree with definitions, include/exclude criteria and accepted counts."""
    proj = project()
    cb = proj.codebook()
    return render_template("codebook.html", codebook=cb, entries=pagedata.codebook_entries(proj.store, cb))


@bp.route("/matrix")
@coder_required
def matrix() -> str:
    """Top-level themes by site: accepted coded segments, each cell linking to its quotes."""
    return render_template("matrix.html", matrix=pagedata.site_matrix(project().store))


@bp.route("/quotes")
@coder_required
def quotes() -> str:
    """The quotes behind a matrix cell, attributed by role and site."""
    proj = project()
    cb = proj.codebook()
    code = request.args.get("code", "")
    site = request.args.get("site") or None
    name = cb.by_id[code].name if code in cb else code
    items = pagedata.quotes(proj.store, cb, code, site) if code else []
    return render_template("quotes.html", items=items, code=code, name=name, site=site)
