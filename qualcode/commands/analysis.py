"""Analysis commands: theme matrices (counts, shares, quotes, co-occurrence) and candidate
CMO configurations."""

from __future__ import annotations

import click

from qualcode.cli import main
from qualcode.commands.common import Context, handle_errors

MEASURES = ("segments", "documents", "participants", "share")
STATUS_HELP = "Codings that count: accepted (default), open suggestions only, or all (both); never rejected ones."


def _show(frame, percent: bool = False) -> str:  # noqa: ANN001
    """A matrix as terminal text: names left-aligned, shares as percentages."""
    formatters = {}
    if "name" in frame.columns:
        width = max([len("name"), *map(len, frame["name"])])
        formatters["name"] = lambda s: f"{s:<{width}}"
    if percent:
        for col in frame.columns[2:]:
            formatters[col] = lambda v: "" if v != v else f"{v:.0%}"
    return frame.to_string(index=False, formatters=formatters)


def _quote_lines(frame) -> list[str]:  # noqa: ANN001
    """A framework matrix as indented blocks: code, column, quotes (empty cells left out)."""
    lines = []
    for row in frame.to_dict("records"):
        lines.append(f"{row['code']} ({row['name'].strip()})")
        for col in frame.columns[2:]:
            if row[col]:
                lines.append(f"  {col}:")
                lines.extend(f"    {q}" for q in row[col].split("\n\n"))
    return lines


@main.command("matrix")
@click.option("--rows", type=click.Choice(["codes"]), default="codes", show_default=True, help="Rows: the codes.")
@click.option("--cols", help="site (default), role, wave, document, participant, or a manifest attribute column.")
@click.option("--measure", type=click.Choice(MEASURES),
              help="segments coded; documents (interviews) mentioning [default]; participants; "
                   "share = documents mentioning / documents in the column.")
@click.option("--level", type=click.Choice(["top", "all"]), default="top", show_default=True,
              help="Top-level themes, or every code (a sub-code also counts for its ancestors).")
@click.option("--status", type=click.Choice(["accepted", "suggested", "all"]), default="accepted",
              show_default=True, help=STATUS_HELP)
@click.option("--quotes", type=click.IntRange(min=1), help="Framework matrix: up to N quotes in each cell.")
@click.option("--max-chars", type=click.IntRange(min=10), default=300, show_default=True,
              help="Quotes are cut on a word boundary at this length.")
@click.option("--cooccurrence", is_flag=True, help="Code x code co-occurrence instead of codes by column.")
@click.option("--window", type=click.IntRange(min=0), default=0, show_default=True,
              help="With --cooccurrence: also count codes within N turns of each other.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the matrix to .xlsx (formatted) or .csv.")
@click.pass_obj
@handle_errors
def matrix_cmd(obj: Context, rows: str, cols: str | None, measure: str | None, level: str, status: str,
               quotes: int | None, max_chars: int, cooccurrence: bool, window: int, out: str | None) -> None:
    """Theme matrix: codes by site, role, wave, document or attribute, as counts, shares,
    quotes (framework matrix), or code co-occurrence. Quotes are attributed by role and site.

    \b
    Example:
      qualcode matrix --cols site --measure share --out themes_by_site.xlsx
      qualcode matrix --cols role --measure segments --level all
      qualcode matrix --cols site --quotes 3 --out framework.xlsx
      qualcode matrix --cooccurrence --window 2 --out cooccurrence.csv
    """
    from qualcode.errors import InvalidInput
    from qualcode.workflows import matrix as wf

    if quotes and cooccurrence:
        raise InvalidInput("choose --quotes (framework matrix) or --cooccurrence, not both")
    if window and not cooccurrence:
        raise InvalidInput("--window applies to --cooccurrence only")
    if measure and (quotes or cooccurrence):
        raise InvalidInput("--measure applies to count matrices, not to --quotes or --cooccurrence")
    if cols and cooccurrence:
        raise InvalidInput("--cols does not apply to --cooccurrence (codes by codes)")
    if out and not out.lower().endswith((".csv", ".xlsx")):
        raise InvalidInput("--out must name a .csv or .xlsx file", file=out)
    store = obj.store()
    cols, measure = cols or "site", measure or "documents"
    extra = {}
    if cooccurrence:
        frame, kind = wf.project_cooccurrence(store, level=level, window=window, status=status), "counts"
        what = "segments coded with both" if not window else f"turns with both codes within {window} turns"
        click.echo(f"Co-occurrence ({level} level, {status} codings; {what}; diagonal: segments with the code)")
        click.echo(_show(frame))
    elif quotes:
        frame, kind = wf.project_framework(store, cols=cols, level=level, status=status, quotes=quotes,
                                           max_chars=max_chars), "quotes"
        click.echo(f"Framework matrix: codes by {cols}, up to {quotes} quote{'s' if quotes != 1 else ''} a cell "
                   f"({status} codings)")
        click.echo("\n".join(_quote_lines(frame)))
    else:
        frame = wf.project_matrix(store, cols=cols, measure=measure, level=level, status=status)
        kind = "share" if measure == "share" else "counts"
        sizes = wf.project_column_sizes(store, cols)
        click.echo(f"Codes by {cols}: {measure} ({level} level, {status} codings)")
        click.echo(_show(frame, percent=measure == "share"))
        click.echo("documents per column: " + ", ".join(f"{k} {v}" for k, v in sizes.items()))
        extra["documents"] = sizes.reset_index()
    if out:
        import pandas as pd

        about = {"rows": rows, "columns": "codes" if cooccurrence else cols, "level": level, "status": status,
                 "measure": "co-occurrence" if cooccurrence else ("quotes" if quotes else measure)}
        if cooccurrence:
            about["window"] = window
        extra["about"] = pd.DataFrame({"setting": list(about), "value": [str(v) for v in about.values()]})
        wf.write_matrix(out, frame, kind=kind, extra=extra)
        click.echo(f"wrote {out}")


@main.command("configurations")
@click.option("--by", default="site", show_default=True, help="Group by site, wave or another document field.")
@click.option("--status", type=click.Choice(["accepted", "suggested", "all"]), default="accepted",
              show_default=True, help=STATUS_HELP)
@click.option("--quotes", type=click.IntRange(min=0), default=2, show_default=True, help="Quotes for each part.")
@click.option("--min-interviews", type=click.IntRange(min=1), default=1, show_default=True,
              help="Leave out configurations found in fewer interviews.")
@click.option("--show", type=click.IntRange(min=0), default=5, show_default=True,
              help="Configurations printed per group (most interviews first); --out holds them all.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the table (with quotes) to .xlsx or .csv.")
@click.pass_obj
@handle_errors
def configurations_cmd(obj: Context, by: str, status: str, quotes: int, min_interviews: int, show: int,
                       out: str | None) -> None:
    """Candidate context-mechanism-outcome (CMO) configurations: a context, a mechanism and
    an outcome code coded in the same interview, counted per site, with quotes for each
    part. A heuristic aid for the realist analyst, not a finding.

    \b
    Example:
      qualcode configurations --by site --min-interviews 2 --out cmo.xlsx
    """
    from qualcode.errors import InvalidInput
    from qualcode.workflows import matrix as wf

    if out and not out.lower().endswith((".csv", ".xlsx")):
        raise InvalidInput("--out must name a .csv or .xlsx file", file=out)
    frame = wf.project_cmo(obj.store(), by=by, status=status, quotes=quotes, min_interviews=min_interviews)
    if frame.empty:
        click.echo("no interview holds a context, a mechanism and an outcome code together")
    for group, part in frame.groupby(by, sort=False):
        click.echo(f"{group}: {len(part)} configuration{'s' if len(part) != 1 else ''}")
        for row in part.head(show).to_dict("records"):
            n = row["interviews"]
            click.echo(f"  {row['context']} + {row['mechanism']} -> {row['outcome']} "
                       f"({n} interview{'s' if n != 1 else ''})")
    if out:
        wf.write_matrix(out, frame, kind="table", sheet="configurations")
        click.echo(f"wrote {out}")
