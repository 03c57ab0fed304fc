"""REFI-QDA project exchange commands: ``export qdpx`` and ``import qdpx``."""

from __future__ import annotations

import click

from qualcode.cli import export
from qualcode.commands.coding import import_group
from qualcode.commands.common import Context, handle_errors


@export.command("qdpx")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The .qdpx file to write.")
@click.option("--status", type=click.Choice(["accepted", "all"]), default="accepted", show_default=True,
              help="Which codings: accepted ones, or all (suggested and rejected too, marked in each "
                   "selection's description; other programs see them as ordinary codings).")
@click.pass_obj
@handle_errors
def export_qdpx_cmd(obj: Context, out: str, status: str) -> None:
    """Write the project as a REFI-QDA project (.qdpx) for NVivo, ATLAS.ti, MAXQDA or QualCoder:
    documents, codebook, codings with their coders, site and role cases, document variables.

    \b
    Example:
      qualcode export qdpx --out evaluation.qdpx
    """
    from qualcode.export.qdpx import export_qdpx

    path = export_qdpx(obj.store(), out, status=status)
    click.echo(f"wrote {path}")


@import_group.command("qdpx")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--coder-default", default="imported", show_default=True,
              help="Coder name for codings whose creating user the file does not name.")
@click.option("--roles", type=click.Path(dir_okay=False), help="YAML extending the speaker-role map for the texts.")
@click.pass_obj
@handle_errors
def import_qdpx_cmd(obj: Context, file: str, coder_default: str, roles: str | None) -> None:
    """Import a REFI-QDA project (.qdpx) from NVivo, ATLAS.ti, MAXQDA, QualCoder or qualcode:
    text sources become documents, the codebook is merged into the project's, codings become
    accepted human codings by their coders. All or nothing.

    \b
    Example:
      qualcode import qdpx coded_in_nvivo.qdpx
    """
    from qualcode.ingest.qdpx import import_qdpx

    r = import_qdpx(obj.store(), file, coder_default=coder_default, roles=roles)
    click.echo(f"documents: {len(r.documents_added)} added, {len(r.documents_matched)} already in the project")
    if r.codebook_version is not None:
        click.echo(f"codebook: {len(r.codes_added)} codes added; project codebook version {r.codebook_version}")
    click.echo(f"codings: {r.codings} imported"
               + (f" by {', '.join(r.coders)}" if r.coders else "")
               + (f" ({r.codings_already_there} already in the project)" if r.codings_already_there else ""))
    for note in r.notes:
        click.echo(f"  note: {note}")
