"""Access token, CSRF protection, the coder's identity and response headers.

* Token: when the app has one, a request needs ``?token=`` once; the session then
  remembers it (and the token is stripped from the address by a redirect).
* CSRF: every POST needs the session's token, in the ``csrf_token`` form field or the
  ``X-CSRF-Token`` header (fetch); a missing or wrong one is a 400.
* Coder: every page needs a coder name chosen at ``/coder``; a write without one is a 403.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from typing import Any, Callable
from urllib.parse import urlencode

from flask import Flask, Response, g, jsonify, redirect, render_template, request, session, url_for

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
MACHINE_NAMES = ("rules", "classifier", "rule", "human")
MAX_CODER = 100


def is_local(host: str) -> bool:
    """True for the loopback addresses the app binds without a token."""
    return host.strip("[]") in LOCAL_HOSTS


def access_token_for(host: str, token: str | None) -> tuple[str | None, str | None]:
    """The token a server on ``host`` needs (generated when not local and not given), and
    a warning to print when the host is not local."""
    if is_local(host):
        return token, None
    token = token or secrets.token_urlsafe(18)
    return token, (f"warning: serving on {host}, reachable from other machines; every browser needs the "
                   "access token once (?token=...). Transcripts are confidential: prefer 127.0.0.1.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token() -> str:
    """This session's CSRF token (made on first use)."""
    tok = session.get("csrf")
    if not tok:
        tok = session["csrf"] = secrets.token_urlsafe(32)
    return tok


def wants_json() -> bool:
    """True for the app's fetch calls (they ask for JSON)."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def refuse(status: int, message: str, *, redirect_to: str | None = None) -> Response:
    """An error page (or JSON for fetch) with this status."""
    if wants_json():
        resp = jsonify({"error": message, "redirect": redirect_to})
    else:
        resp = Response(render_template("error.html", status=status, message=message, redirect_to=redirect_to))
    resp.status_code = status
    return resp


def safe_next(target: str | None) -> str:
    """A local path to go back to (never another site)."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in target)):
        return url_for("documents.index")
    return target


def coder_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Pages need a coder name: reading redirects to the form, writing is refused (403)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not g.get("coder"):
            choose = url_for("coder.choose", next=request.full_path.rstrip("?") if request.method in SAFE_METHODS else None)
            if request.method in SAFE_METHODS:
                return redirect(choose)
            return refuse(403, "choose a coder name before coding", redirect_to=choose)
        return view(*args, **kwargs)

    return wrapper


def valid_coder(name: str) -> str | None:
    """The problem with a coder name, or None."""
    if not name:
        return "a coder name is needed"
    if len(name) > MAX_CODER:
        return f"a coder name has at most {MAX_CODER} characters"
    if any(not ch.isprintable() for ch in name):
        return "a coder name cannot hold control characters"
    if name.casefold() in MACHINE_NAMES:
        return f"{name!r} is reserved for the machine coders"
    return None


def install(app: Flask, token: str | None) -> None:
    """Register the token, CSRF and header hooks on the app."""
    app.jinja_env.globals["csrf_token"] = csrf_token
    wanted = _digest(token) if token else None

    @app.before_request
    def _guard() -> Any:
        if wanted is not None and not hmac.compare_digest(session.get("access", ""), wanted):
            given = request.args.get("token", "")
            if not given or not hmac.compare_digest(_digest(given), wanted):
                return refuse(401, "this server needs its access token: open the address `qualcode serve` printed "
                                   "(it ends in ?token=...)")
            session["access"] = wanted
            session.permanent = False
            if request.method in SAFE_METHODS:
                rest = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
                return redirect(request.path + ("?" + urlencode(rest) if rest else ""))
        if request.method not in SAFE_METHODS:
            expected = session.get("csrf")
            sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
            if not expected or not sent or not hmac.compare_digest(str(sent), str(expected)):
                return refuse(400, "the form's security token is missing or out of date: reload the page and try again")
        g.coder = session.get("coder")
        return None

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        )
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        if resp.mimetype == "text/html":
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp
