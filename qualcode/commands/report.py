"""The report command: every section as one Excel workbook or one self-contained HTML page."""

from __future__ import annotations

import click

from qualcode.cli import main
from qualcode.commands.common import Context, handle_errors


def _split(value: str | None) -> list[str] | None:
    """A comma-separated option as a list (None when the option was not given)."""
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


@main.command("report")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="report.xlsx or report.html.")
@click.option("--status", type=click.Choice(["accepted", "suggested", "all"]), default="accepted", show_default=True,
              help="Codings that count: accepted, open suggestions only, or both; never rejected ones.")
@click.option("--coders", help="Coders to compare (default: every person who coded, if at least two).")
@click.option("--quotes", type=click.IntRange(min=1), default=3, show_default=True,
              help="Quotes per cell of the framework matrix.")
@click.option("--max-chars", type=click.IntRange(min=10), default=300, show_default=True,
              help="Quotes are cut on a word boundary at this length.")
@click.option("--theme", help="Code set beside a site outcome [default: integration].")
@click.option("--outcome", help="Site outcome column [default: job_entry_rate].")
@click.option("--model-factors", help="Client factors of the model [default: those of site, referral_source, "
              "meetings_band present].")
@click.option("--model-outcome", help="0/1 client column modelled [default: job_start].")
@click.option("--cluster-measures", help="Measures X with X_base and X_follow columns [default: all of them].")
@click.pass_obj
@handle_errors
def report_cmd(obj: Context, out: str, status: str, coders: str | None, quotes: int, max_chars: int,
               theme: str | None, outcome: str | None, model_factors: str | None, model_outcome: str | None,
               cluster_measures: str | None) -> None:
    """Write the evaluation report: codebook, coded segments, theme matrices by site and
    role, framework matrix with quotes, co-occurrence, CMO configurations, integration
    evidence, agreement, outcome linkage, client model and client groups. A section whose
    data are missing is listed under "not included" on the About sheet. Quotes are
    attributed by role and site, never by name.

    \b
    Example:
      qualcode report --out report.xlsx
      qualcode report --out report.html --quotes 2 --theme integration --outcome job_entry_rate \\
          --model-factors site,referral_source,meetings_band --cluster-measures wemwbs,confidence
    """
    from qualcode.errors import InvalidInput
    from qualcode.report import SUFFIXES, write_report
    from qualcode.report.build import build_report
    from qualcode.report.model import ReportOptions

    if not out.lower().endswith(SUFFIXES):
        raise InvalidInput(f"--out must name a {' or '.join(SUFFIXES)} file", file=out)
    options = ReportOptions(status=status, coders=_split(coders), quotes=quotes, max_chars=max_chars, theme=theme,
                            outcome=outcome, model_factors=_split(model_factors), model_outcome=model_outcome,
                            cluster_measures=_split(cluster_measures))
    report = build_report(obj.store(), options)
    path = write_report(report, out)
    click.echo(f"wrote {path}")
    click.echo("sections: " + ", ".join(report.included))
    for title, why in report.omitted:
        click.echo(f"  not included: {title} ({why})")
