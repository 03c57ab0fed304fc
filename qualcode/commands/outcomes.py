"""Outcome commands: import outcome tables, client-level models, client groups."""

from __future__ import annotations

from pathlib import Path

import click

from qualcode.cli import main
from qualcode.commands.common import Context, handle_errors


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


@main.group()
def outcomes() -> None:
    """Import the services' numbers (site or client level) that themes are set against."""


@outcomes.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--level", type=click.Choice(["site", "client"]), required=True)
@click.option("--key", help="Key column (default: site, or client_id for clients).")
@click.pass_obj
@handle_errors
def outcomes_import(obj: Context, file: str, level: str, key: str | None) -> None:
    """Check and store an outcomes table (.csv or .xlsx); nothing is stored unless every row is valid.

    \b
    Site level: referrals, job_starts, sustained_13w, integration_rating (low/medium/high),
    fidelity_score, ...; job_entry_rate is derived from job_starts / referrals when absent.
    Example:
      qualcode outcomes import transcripts_example/outcomes_sites.csv --level site
    """
    from qualcode.workflows.outcomes import import_outcomes

    result = import_outcomes(obj.store(), file, level, key)
    click.echo(f"imported {result.rows} {level}-level rows from {file}")
    if result.unknown_sites:
        click.echo(f"  sites with no interviews in the project: {', '.join(result.unknown_sites)}")
    for w in result.warnings:
        click.echo(f"  note: {w}")


@main.command("model")
@click.option("--outcome", required=True, help="0/1 client column, e.g. job_start.")
@click.option("--factors", required=True, help="Comma-separated categorical factors, e.g. site,referral_source,meetings_band.")
@click.option("--numeric", help="Comma-separated numeric factors, e.g. age.")
@click.option("--reference", "references", multiple=True, help="FACTOR=LEVEL reference category (repeatable).")
@click.option("--without", help="Also fit without this factor and show the site odds ratios side by side.")
@click.option("--out", type=click.Path(dir_okay=False), help="Table to .csv or .xlsx.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Forest plot PNG.")
@click.pass_obj
@handle_errors
def model_cmd(obj: Context, outcome: str, factors: str, numeric: str | None, references: tuple[str, ...],
              without: str | None, out: str | None, plot: str | None) -> None:
    """Binary logistic regression of a client outcome: odds ratios with 95% confidence
    intervals and p-values against each factor's reference category.

    \b
    Example:
      qualcode model --outcome job_start --factors site,referral_source,meetings_band \\
          --reference site=Brent --without meetings_band --out odds.xlsx --plot forest.png
    """
    from qualcode.errors import InvalidInput
    from qualcode.workflows.outcomes import client_model

    refs = {}
    for item in references:
        if "=" not in item:
            raise InvalidInput(f"--reference takes FACTOR=LEVEL, not {item!r}")
        k, v = item.split("=", 1)
        refs[k.strip()] = v.strip()
    result, comparison = client_model(obj.store(), outcome, _split(factors), numeric=_split(numeric),
                                      reference=refs or None, without=without)
    click.echo(f"n used {result.n_used}, dropped for missing data {result.n_dropped}; "
               f"references: {', '.join(f'{k}={v}' for k, v in result.reference.items())}")
    click.echo(result.table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for w in result.warnings:
        click.echo(f"note: {w}")
    if comparison is not None:
        click.echo(f"\nWith and without {without}:")
        click.echo(comparison.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if out:
        from qualcode.export.tables import write_frames

        frames = {"odds_ratios": result.table}
        if comparison is not None:
            frames[f"without_{without}"] = comparison
        write_frames(out, frames)
        click.echo(f"wrote {out}")
    if plot:
        from qualcode.analysis.models import forest_plot

        forest_plot(result.table, Path(plot), title=f"Odds of {outcome}")
        click.echo(f"wrote {plot}")


@main.command("clusters")
@click.option("--measures", required=True, help="Comma-separated wellbeing measures, e.g. wemwbs,confidence.")
@click.option("--baseline-suffix", default="_base", show_default=True)
@click.option("--followup-suffix", default="_follow", show_default=True)
@click.option("--k", default="auto", show_default=True, help="Number of groups, or auto (best silhouette).")
@click.option("--out", type=click.Path(dir_okay=False), help="Group summary to .csv or .xlsx.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Chart of mean change per measure by group (PNG).")
@click.pass_obj
@handle_errors
def clusters_cmd(obj: Context, measures: str, baseline_suffix: str, followup_suffix: str, k: str,
                 out: str | None, plot: str | None) -> None:
    """Group clients by their baseline-to-follow-up change on wellbeing measures (k-means on
    standardised change scores); clients missing a follow-up are counted and left out.

    \b
    Example:
      qualcode clusters --measures wemwbs,confidence --k auto --plot groups.png
    """
    from qualcode.errors import InvalidInput
    from qualcode.workflows.outcomes import client_groups

    if k != "auto" and not k.isdigit():
        raise InvalidInput(f"--k takes a number or auto, not {k!r}")
    result = client_groups(obj.store(), _split(measures), k=int(k) if k.isdigit() else "auto",
                           baseline_suffix=baseline_suffix, followup_suffix=followup_suffix)
    click.echo(f"{result.k} groups; {result.n_missing} clients left out for missing scores")
    click.echo(result.summary.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if out:
        from qualcode.export.tables import write_frames

        write_frames(out, {"client_groups": result.summary})
        click.echo(f"wrote {out}")
    if plot:
        from qualcode.analysis.clusters import cluster_chart

        cluster_chart(result.summary, _split(measures), Path(plot))
        click.echo(f"wrote {plot}")


@main.command("link")
@click.option("--theme", required=True, help="Code id, e.g. integration.")
@click.option("--outcome", required=True, help="Site outcome column, e.g. job_entry_rate.")
@click.option("--x", "x", default="integration_rating", show_default=True,
              help="Column to correlate with the outcome (a rating, or e.g. integration_share).")
@click.option("--status", type=click.Choice(["accepted", "suggested", "all"]), default="accepted", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Joint display to .csv or .xlsx.")
@click.option("--chart", type=click.Path(dir_okay=False), help="Outcome against the rating, one point per site (PNG).")
@click.pass_obj
@handle_errors
def link_cmd(obj: Context, theme: str, outcome: str, x: str, status: str, out: str | None, chart: str | None) -> None:
    """Set a theme beside a site outcome: joint display, Spearman's rank correlation with n and
    an honest caveat when there are few sites, and a chart.

    \b
    Example:
      qualcode link --theme integration --outcome job_entry_rate --out link.xlsx --chart link.png
    """
    from qualcode.workflows.link import link_theme

    link = link_theme(obj.store(), theme, outcome, x=x, status=status, chart=chart)
    click.echo(link.display.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    r = link.result
    click.echo(f"\nSpearman's rho ({link.x} vs {link.y}) = {r.rho:.2f}, p = {r.p_value:.3f}, n = {r.n} sites ({r.method})")
    if r.caveat:
        click.echo(f"Caveat: {r.caveat}")
    if out:
        import pandas as pd

        from qualcode.export.tables import write_frames

        stats = pd.DataFrame([{"x": link.x, "y": link.y, "rho": r.rho, "p_value": r.p_value, "n": r.n,
                               "method": r.method, "caveat": r.caveat or ""}])
        write_frames(out, {"joint_display": link.display, "spearman": stats})
        click.echo(f"wrote {out}")
    if chart:
        click.echo(f"wrote {chart}")
