"""Coding commands: import and export codings, agreement (and the assistants' commands)."""

from __future__ import annotations

import click

from qualcode.cli import export, main
from qualcode.commands.common import Context, handle_errors, stage_bars


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
@click.option("--ci", is_flag=True,
              help="Add a 95% bootstrap interval of kappa (1,000 resamples; two coders, presence mode).")
@click.option("--ci-by", type=click.Choice(["interview", "segment"]), default="interview", show_default=True,
              help="What --ci resamples: whole interviews (segments of one interview are not "
                   "independent; needs 5 interviews in common, else segments) or single segments.")
@click.pass_obj
@handle_errors
def agreement(obj: Context, coders: str, codes: str | None, level: str, mode: str, out: str | None,
              show_disagreements: int, ci: bool, ci_by: str) -> None:
    """Agreement per code and overall: percent agreement, Cohen's kappa, Krippendorff's alpha.

    \b
    Example:
      qualcode agreement --coders alice,bob
      qualcode agreement --coders rules,alice --level all --out agreement.xlsx
      qualcode agreement --coders classifier,alice --ci   # how far kappa could be off
    """
    from qualcode.workflows.agreement import project_agreement

    result = project_agreement(
        obj.store(), [c.strip() for c in coders.split(",") if c.strip()],
        codes=[c.strip() for c in codes.split(",")] if codes else None, level=level, mode=mode,
        intervals=1000 if ci else 0, ci_by=ci_by,
    )
    cols = [c for c in ("code", "units", "percent_agreement", "cohen_kappa", "kappa_low", "kappa_high",
                        "krippendorff_alpha") if c in result.table]
    click.echo(result.table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if result.interval_note:
        click.echo(result.interval_note)
    if len(result.disagreements) and show_disagreements <= 0:
        click.echo(f"\n{len(result.disagreements)} disagreements (--show-disagreements N lists them)")
    elif len(result.disagreements):
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


@main.command("suggest")
@click.option("--method", type=click.Choice(["rules", "classifier", "all"]), default="all", show_default=True)
@click.option("--threshold", type=float, default=None,
              help="Classifier probability needed to suggest alone [default: 0.5, or with "
                   "--method all the threshold learned by `qualcode train`].")
@click.pass_obj
@handle_errors
def suggest_cmd(obj: Context, method: str, threshold: float | None) -> None:
    """Store rule and/or classifier suggestions for every segment (replacing that method's
    open suggestions; human decisions are never touched).

    With --method all and a trained model, rules and classifier check each other: a rule
    hit is kept only where the classifier finds its theme plausible, and the classifier
    suggests alone only where it is confident; `qualcode train` learns both thresholds
    from the human codings (cross-validated by document).

    \b
    Example:
      qualcode suggest --method rules
      qualcode suggest --method classifier --threshold 0.6
    """
    from qualcode.workflows.assist import suggest

    store = obj.store()
    results = suggest(store, method, threshold=threshold)
    if method == "all" and "classifier" not in results:
        click.echo("no trained classifier yet: rules only (run `qualcode train`)")
    elif method == "all":
        from qualcode.workflows.assist import combine_policy, load_classifier

        policy = combine_policy(load_classifier(store))  # type: ignore[arg-type]
        if policy is not None:
            hi = policy.hi if threshold is None else threshold
            click.echo(f"rules kept where the classifier gives their theme p >= {policy.lo:.2f}; "
                       + ("classifier alone where p >= " + f"{hi:.2f}" if hi <= 1 else "classifier never alone"))
    for source, r in results.items():
        click.echo(f"{source}: {r.added} suggestions stored ({r.replaced} earlier open ones replaced, "
                   f"{r.kept} already decided)")


@main.command("train")
@click.option("--coders", help="Comma-separated coders whose codings to learn from (default: everyone).")
@click.option("--min-examples", type=int, default=5, show_default=True, help="Positive examples a code needs.")
@click.option("--cold-start/--no-cold-start", default=True, show_default=True,
              help="Also learn from the codebook's definitions, include criteria and examples.")
@click.option("--weak-labels/--no-weak-labels", default=None,
              help="Also learn from rule hits on segments nobody has coded, at half weight "
                   "(default: cross-validation decides).")
@click.option("--context/--no-context", default=True, show_default=True,
              help="Read each segment together with the turn before it (usually the question).")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes for the cross-validation (default: one per CPU, at most 4).")
@click.pass_obj
@handle_errors
def train_cmd(obj: Context, coders: str | None, min_examples: int, cold_start: bool,
              weak_labels: bool | None, context: bool, jobs: int | None) -> None:
    """Train the classifier on accepted human codings; print cross-validated precision, recall,
    F1 and support per code, and the codes that need more examples.

    \b
    Example:
      qualcode train --coders alice,bob
      qualcode train --no-context   # the segment's own words only
      qualcode train --jobs 1       # one process, on a machine others are using
    """
    from qualcode.workflows.assist import train

    with stage_bars() as progress:
        outcome = train(obj.store(), coders=[c.strip() for c in coders.split(",")] if coders else None,
                        min_examples=min_examples, cold_start=cold_start, weak_labels=weak_labels,
                        context=context, progress=progress, n_jobs=jobs)
    res = outcome.result
    click.echo(f"trained on {outcome.n_human} human-coded segments"
               + (f", {outcome.n_seed} codebook seed texts" if outcome.n_seed else "")
               + (f", {outcome.n_weak} segments labelled by rule hits" if outcome.n_weak else "")
               + f"; model {outcome.model_id} saved in the project"
               + ("" if context else " (without the turn before each segment)"))
    chosen = res.model.metadata.get("combine") or {}
    if weak_labels is None and chosen.get("weak_weight") is not None:
        click.echo("rule hits on uncoded segments: "
                   + ("used as weak labels" if chosen["weak_weight"] > 0 else "left out")
                   + " (the better of the two under cross-validation grouped by document)")
    report = res.report
    seed_only = report[report["basis"] == "seed"] if "basis" in report else report.iloc[0:0]
    evaluated = report.drop(seed_only.index)
    if len(evaluated):
        click.echo("\nCross-validated on human codings (threshold 0.5):")
        click.echo(evaluated.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if len(seed_only):
        click.echo(f"\n{len(seed_only)} codes learned from the codebook's seed texts only (not evaluated): "
                   + ", ".join(seed_only["code"]))
    policy = res.model.metadata.get("combine")
    if policy:
        click.echo(f"\nRules and classifier together (`suggest --method all`): keep a rule hit where "
                   f"p(theme) >= {policy['lo']:.2f}, "
                   + (f"classifier alone where p >= {policy['hi']:.2f} " if policy["hi"] <= 1
                      else "classifier never alone ")
                   + f"(macro F1 over themes {policy['cv_macro_f1']:.2f}, cross-validated over "
                   f"{policy['folds']} groups of documents)")
    if len(res.skipped):
        click.echo("\nLeft out for too few examples:")
        for _, row in res.skipped.iterrows():
            click.echo(f"  {row['code']}: {row['positives']} positive examples, needs {row['needed']} more")


@main.command("next")
@click.option("--n", "n", type=int, default=20, show_default=True)
@click.option("--strategy", type=click.Choice(["margin", "entropy"]), default="margin", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Also write the list to CSV.")
@click.pass_obj
@handle_errors
def next_cmd(obj: Context, n: int, strategy: str, out: str | None) -> None:
    """List uncoded segments whose coding would help the classifier most, spread across
    documents and sites.

    \b
    Example:
      qualcode next --n 20
    """
    from qualcode.workflows.assist import next_segments

    frame = next_segments(obj.store(), n=n, strategy=strategy)
    if frame.empty:
        click.echo("nothing left to code: every segment eligible for coding has been coded or reviewed")
    for _, row in frame.iterrows():
        text = " ".join(str(row["text"]).split())
        unc = "" if row["uncertainty"] != row["uncertainty"] else f" {row['most_uncertain_code']} p={row['p']:.2f}"
        click.echo(f"[{row['segment_id']}] {row['document']} ({row['role']}, {row['site']}){unc}: {text[:90]}")
    if out:
        from qualcode.export.tables import write_frames

        write_frames(out, {"next": frame})
        click.echo(f"wrote {out}")
