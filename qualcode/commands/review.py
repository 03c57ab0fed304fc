"""Human review commands: the Excel review sheet out and back in, and review in the terminal."""

from __future__ import annotations

import click

from qualcode.cli import export, main
from qualcode.commands.coding import import_group
from qualcode.commands.common import Context, handle_errors

# the same as qualcode.coding.review.STATUSES (kept here so --help stays fast)
STATUSES = ("suggested", "unreviewed", "all")
STATUS_HELP = ("Which segments: with a suggestion still open (for --coder), not yet coded by --coder, or all "
               "(interviewer turns never).")


def _names(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@export.command("review")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The .xlsx review sheet to write.")
@click.option("--status", type=click.Choice(STATUSES), default="suggested", show_default=True, help=STATUS_HELP)
@click.option("--documents", help="Comma-separated document names (default: every document).")
@click.option("--coder", help="Who will review: their earlier decisions are filled in and left out of 'open'.")
@click.pass_obj
@handle_errors
def export_review_cmd(obj: Context, out: str, status: str, documents: str | None, coder: str | None) -> None:
    """Write an Excel review sheet: one row per segment with the turn before it, the text, the
    suggestions and why, accept/reject drop-downs, drop-downs to add codes, and 'done'.

    \b
    Example:
      qualcode export review --out review_alice.xlsx --coder alice
      qualcode export review --out luton.xlsx --status all --documents luton_es_01.docx,luton_manager_02.txt
    """
    from qualcode.export.review_sheet import write_review_sheet

    n = write_review_sheet(obj.store(), out, status=status, documents=_names(documents), coder=coder)
    click.echo(f"wrote {out} ({n} segments to review)")


@import_group.command("review")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--coder", required=True, help="Whose decisions these are.")
@click.pass_obj
@handle_errors
def import_review_cmd(obj: Context, file: str, coder: str) -> None:
    """Apply a filled-in review sheet (from `qualcode export review`) as one coder's decisions.

    Every row is checked first (codes, segment and coding ids, accept/reject); one bad row,
    named by number, and nothing at all is applied.

    \b
    Example:
      qualcode import review review_alice.xlsx --coder alice
    """
    from qualcode.coding.review import import_review_sheet

    s = import_review_sheet(obj.store(), file, coder=coder)
    click.echo(f"{file}: accepted {s.accepted}, rejected {s.rejected}, added {s.added}, "
               f"segments reviewed {s.reviewed} (by {coder}; {s.unchanged} decisions were already so)")
    if s.notes_unsaved:
        click.echo(f"note: {s.notes_unsaved} row(s) had a note but no decision to keep it with; not stored", err=True)


@main.command("review")
@click.option("--coder", help="Your name (asked for when not given: no anonymous decisions).")
@click.option("--document", "documents", help="Only this document (comma-separated for several).")
@click.option("--status", type=click.Choice(STATUSES), default="suggested", show_default=True, help=STATUS_HELP)
@click.pass_obj
@handle_errors
def review_cmd(obj: Context, coder: str | None, documents: str | None, status: str) -> None:
    """Review suggestions in the terminal, one segment at a time: a/a N accept, r/r N reject,
    + CODE add (+ co_ lists codes), d done, s skip, u undo, q quit, ? help. Each decision is
    saved at once.

    \b
    Example:
      qualcode review --coder alice
      qualcode review --coder bob --document luton_es_01.docx --status unreviewed
    """
    from qualcode.coding.terminal import review_session

    if not coder:
        coder = click.prompt("Coder name").strip()

    def read(prompt: str) -> str:
        try:
            return click.prompt(prompt, default="", show_default=False, prompt_suffix=" ")
        except click.Abort:
            raise EOFError from None

    review_session(obj.store(), coder, read=read, write=click.echo, status=status, documents=_names(documents))
