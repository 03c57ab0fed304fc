"""``qualcode serve``: the local web app on the project (same library calls as the CLI)."""

from __future__ import annotations

import click

from qualcode.cli import main
from qualcode.commands.common import Context, handle_errors


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Any other than 127.0.0.1/localhost/::1 needs an access token.")
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--token", help="Access token browsers must present once (?token=...); generated when the "
                              "host is not local and none is given.")
@click.pass_obj
@handle_errors
def serve(obj: Context, host: str, port: int, token: str | None) -> None:
    """Serve the web app: read transcripts, review suggestions, apply codes.

    \b
    Example:
      qualcode serve                       # http://127.0.0.1:8765/
      qualcode --project evaluation.db serve --port 9000
    """
    from qualcode.web.app import create_app
    from qualcode.web.security import access_token_for

    token, warning = access_token_for(host, token)
    if warning:
        click.echo(warning, err=True)
    app = create_app(obj.project, token=token)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    click.echo(f"Project: {app.extensions['qualcode'].store.display_url}")
    click.echo(f"Open {url}  (Ctrl+C stops the server)", nl=True)
    try:
        app.run(host=host, port=port, threaded=True, debug=False, use_reloader=False)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise click.ClickException(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from exc
