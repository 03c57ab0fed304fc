"""Coding commands: import and export codings, agreement (and the assistants' commands)."""

from __future__ import annotations

import click

from qualcode.cli import export, main
from qualcode.commands.common import Context, handle_errors


@main.group("import")
def import_group() -> None:
    """Import codings, review sheets and exchange files."""


@import_group.command("codings")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--coder", help="Coder name for rows without a coder column.")
@click.option("--covered", type=click.Choice(["documents", "rows"]), default="documents", show_default=True,
              help="What the coder is taken to have coded: whole documents named in the file, or only its rows.")
@click.pass_obj
@handle_errors
def import_codings_cmd(obj: Context, file: str, coder: str | None, covered: str) -> None:
    """Apply codings done elsewhere: CSV with segment_id,code (or document,quote,code), optional coder,note.

    All rows are checked first; one bad row (named by number) and nothing is applied.

    \b
    Example:
      qualcode import codings coded_by_alice.csv --coder alice
    """
    from qualcode.coding.imports import import_codings

    result = import_codings(obj.store(), file, coder=coder, covered=covered)
    click.echo(f"applied {result.applied} codings by {', '.join(result.coders)} "
               f"({result.segments_reviewed} segments recorded as coded)")


@export.command("codings")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="CSV file to write.")
@click.option("--status", type=click.Choice(["suggested", "accepted", "rejected", "all"]), default="all", show_default=True)
@click.option("--source", type=click.Choice(["rule", "classifier", "human", "all"]), default="all", show_default=True)
@click.pass_obj
@handle_errors
def export_codings_cmd(obj: Context, out: str, status: str, source: str) -> None:
    """Write one CSV row per coding: segment, document, site, role, code and its path, source, coder,
    confidence, status, provenance and the text.

    \b
    Example:
      qualcode export codings --out accepted.csv --status accepted
    """
    from qualcode.export.codings import export_codings

    n = export_codings(obj.store(), out, status=status, source=source)
    click.echo(f"wrote {out} ({n} codings)")


@main.command()
@click.option("--coders", required=True, help="Comma-separated coders; machines are 'rules' and 'classifier'.")
@click.option("--codes", help="Comma-separated code ids (default: every code at the level).")
@click.option("--level", type=click.Choice(["top", "all"]), default="top", show_default=True)
@click.option("--mode", type=click.Choice(["presence", "nominal"]), default="presence", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write the tables to .xlsx (all sheets) or .csv (the main table).")
@click.option("--show-disagreements", type=int, default=5, show_default=True, help="How many disagreements to print.")
@click.pass_obj
@handle_errors
def agreement(obj: Context, coders: str, codes: str | None, level: str, mode: str, out: str | None,
              show_disagreements: int) -> None:
    """Agreement per code and overall: percent agreement, Cohen's kappa, Krippendorff's alpha.

    \b
    Example:
      qualcode agreement --coders alice,bob
      qualcode agreement --coders rules,alice --level all --out agreement.xlsx
    """
    from qualcode.workflows.agreement import project_agreement

    result = project_agreement(
        obj.store(), [c.strip() for c in coders.split(",") if c.strip()],
        codes=[c.strip() for c in codes.split(",")] if codes else None, level=level, mode=mode,
    )
    cols = [c for c in ("code", "units", "percent_agreement", "cohen_kappa", "krippendorff_alpha") if c in result.table]
    click.echo(result.table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if len(result.disagreements):
        click.echo(f"\n{len(result.disagreements)} disagreements; first {min(show_disagreements, len(result.disagreements))}:")
        for _, row in result.disagreements.head(show_disagreements).iterrows():
            text = " ".join(str(row.get("text", "")).split())
            click.echo(f"  [{row['unit']}] {row['code']}: applied by {row['applied_by']}, not by {row['not_applied_by']}: "
                       f"{text[:100]}")
    if out:
        from qualcode.export.tables import write_frames

        frames = {"agreement": result.table, "disagreements": result.disagreements}
        if result.pairwise is not None:
            frames["pairwise"] = result.pairwise
        write_frames(out, frames)
        click.echo(f"wrote {out}")
