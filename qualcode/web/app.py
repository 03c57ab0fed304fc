"""The app factory: one Store per app, the views, the error pages and the security hooks.

Routes (every page needs a coder name; every POST a CSRF token):

======================================================  ==========================================
``GET/POST /coder``                                     choose the coder name (kept in the session)
``GET /``                                               documents; ``?site= &role= &wave= &status=``
``GET /documents/<id>``                                 the transcript with suggestions and codes
``GET /documents/<id>/segments/<sid>/code``             apply a code without JavaScript
``POST /documents/<id>/codings/<cid>``                  ``decision=accept|reject``
``POST /documents/<id>/segments/<sid>/codes``           ``code``, ``start``/``end`` or ``quote``
``POST /documents/<id>/segments/<sid>/reviewed``        nothing to code here (optional ``next``)
``POST /undo``                                          undo the coder's last decision
``GET /queue``, ``/codebook``, ``/matrix``, ``/quotes``  review queue, codebook, matrix, its quotes
======================================================  ==========================================

POSTs answer with a redirect, or with JSON when the request asks for it (the page's fetch).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, render_template
from werkzeug.exceptions import HTTPException

from qualcode.errors import QualcodeError
from qualcode.store.repo import Store
from qualcode.web import security

log = logging.getLogger(__name__)


class Project:
    """The open project: the store and its codebook, re-read only when its version changes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._codebook: tuple[int | None, Any] | None = None

    def codebook(self):  # noqa: ANN201
        version = self.store.codebook_version()
        with self._lock:
            if self._codebook is None or self._codebook[0] != version:
                self._codebook = (version, self.store.codebook())
            return self._codebook[1]


def project() -> Project:
    """The current app's project."""
    return current_app.extensions["qualcode"]


def create_app(project: str | None, *, token: str | None = None, secret_key: bytes | None = None) -> Flask:
    """The web app on a project (SQLite path or database URL; None: $QUALCODE_PROJECT, then
    ./qualcode.db). With ``token`` every browser must present it once (``?token=``)."""
    from qualcode.web import views_analysis, views_coding, views_documents

    store = Store.open(project)
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(
        SECRET_KEY=secret_key or os.urandom(32),
        SESSION_COOKIE_NAME="qualcode_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=1 << 20,
        SEND_FILE_MAX_AGE_DEFAULT=0,
    )
    app.extensions["qualcode"] = Project(store)
    security.install(app, token)
    for bp in (views_documents.coder_bp, views_documents.bp, views_coding.bp, views_analysis.bp):
        app.register_blueprint(bp)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"coder": g.get("coder"), "project_name": store.display_url.rsplit("/", 1)[-1]}

    @app.errorhandler(QualcodeError)
    def _library_error(exc: QualcodeError) -> Response:
        return security.refuse(400, str(exc))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        if security.wants_json():
            resp = jsonify({"error": exc.description})
        else:
            resp = Response(render_template("error.html", status=exc.code, message=exc.description))
        resp.status_code = exc.code or 500
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unexpected error in the web app")
        return security.refuse(500, f"something went wrong ({type(exc).__name__}); the server log has the details")

    return app
