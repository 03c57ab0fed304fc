"""The ``qualcode`` command line: each command parses options and calls one library function.

Heavy libraries (spaCy, scikit-learn, pandas) are imported inside the commands that need
them, so ``qualcode --help`` and quick commands start fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from qualcode import __version__
from qualcode.commands.common import Context, handle_errors, interactive


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qualcode")
@click.option(
    "--project",
    envvar="QUALCODE_PROJECT",
    default=None,
    metavar="PATH|URL",
    help="Project file or database URL (default: $QUALCODE_PROJECT, then ./qualcode.db).",
)
@click.pass_context
def main(ctx: click.Context, project: str | None) -> None:
    """qualcode: code interview transcripts against a realist codebook and link themes to outcomes.

    \b
    Example:
      qualcode init
      qualcode ingest transcripts_example/ --manifest transcripts_example/manifest.csv
      qualcode roles
      qualcode export segments --out segments.csv
    """
    ctx.obj = Context(project)


@main.command()
@click.option("--codebook", "codebook_path", type=click.Path(dir_okay=False), help="Codebook YAML (default: the IPS realist codebook).")
@click.pass_obj
@handle_errors
def init(obj: Context, codebook_path: str | None) -> None:
    """Create a project (or upgrade an existing one) and load its codebook.

    \b
    Example:
      qualcode --project evaluation.db init --codebook codebooks/ips_realist.yaml
    """
    from qualcode.codebook import default_codebook_path, load_and_validate

    cb = load_and_validate(Path(codebook_path) if codebook_path else default_codebook_path())
    store = obj.store(create=True)
    version = store.save_codebook(cb)
    click.echo(f"Project: {store.display_url}")
    click.echo(f"Codebook: {cb.name} ({len(cb.codes)} codes), project codebook version {version}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--site", help="Site for files the manifest does not cover.")
@click.option("--wave", help="Wave for files the manifest does not cover.")
@click.option("--manifest", type=click.Path(dir_okay=False), help="CSV: file, site, wave, date, participant, other attributes.")
@click.option("--roles", type=click.Path(dir_okay=False), help="YAML extending the default speaker-role map.")
@click.option("--unit", type=click.Choice(["turn", "sentence", "paragraph"]), default="turn", show_default=True, help="Segment unit.")
@click.option("--replace", is_flag=True, help="Replace changed files already in the project (their codings are removed).")
@click.option("--strict", is_flag=True, help="Ingest nothing if any file fails.")
@click.pass_obj
@handle_errors
def ingest(obj: Context, paths: tuple[str, ...], site: str | None, wave: str | None, manifest: str | None,
           roles: str | None, unit: str, replace: bool, strict: bool) -> None:
    """Ingest transcripts (.txt .md .docx .vtt .srt .csv .xlsx) and directories of them.

    \b
    Example:
      qualcode ingest transcripts_example/ --manifest transcripts_example/manifest.csv \\
          --roles transcripts_example/roles.yaml
      qualcode ingest interview.vtt --site Bradford --wave 1
    """
    from qualcode.ingest.pipeline import collect_files, ingest_paths

    store = obj.store()
    total = len(collect_files(paths))
    bar = click.progressbar(length=total, label="Ingesting", file=sys.stderr) if interactive() and total > 1 else None
    if bar is not None:
        bar.__enter__()
    try:
        report = ingest_paths(
            store, paths, site=site, wave=wave, manifest=manifest, roles=roles, unit=unit,
            replace=replace, strict=strict, progress=(lambda _f: bar.update(1)) if bar else None,
        )
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    for f in report.files:
        if f.status == "error":
            click.echo(f"error: {f.error}", err=True)
            continue
        line = f"{f.status:<9} {f.name}"
        if f.status in ("ingested", "replaced", "checked", "not written"):
            line += f"  [{f.format}, {f.encoding or 'no text encoding'}] {f.turns} turns, {f.segments} segments, {f.words} words"
        if f.codings_removed:
            line += f"  ({f.codings_removed} codings on the old version removed)"
        click.echo(line)
        for w in f.warnings:
            click.echo(f"  note: {w}")
        if f.unknown_labels:
            click.echo(f"  unknown speaker labels (role 'unknown'; map them with --roles): {', '.join(f.unknown_labels)}")
    summary = ", ".join(
        f"{report.count(s)} {s}" for s in ("ingested", "replaced", "unchanged", "error") if report.count(s)
    )
    click.echo(f"{len(report.files)} files: {summary or 'nothing to do'}")
    if report.strict_aborted:
        raise click.ClickException("--strict: nothing was ingested because a file failed")
    if report.errors:
        raise click.ClickException(f"{len(report.errors)} file(s) could not be ingested")


@main.command()
@click.option("--unknown", "unknown_only", is_flag=True, help="Only labels no rule recognised.")
@click.pass_obj
@handle_errors
def roles(obj: Context, unknown_only: bool) -> None:
    """List every raw speaker label with its role, turn count and number of documents.

    \b
    Example:
      qualcode roles --unknown
    """
    rows = obj.store().speaker_roles()
    if unknown_only:
        rows = [r for r in rows if r["role"] == "unknown"]
    if not rows:
        click.echo("no speaker labels" + (" with an unknown role" if unknown_only else ""))
        return
    width = max(len(r["label"]) for r in rows)
    click.echo(f"{'label':<{width}}  {'role':<12} {'turns':>6} {'documents':>9}")
    for r in rows:
        click.echo(f"{r['label']:<{width}}  {r['role']:<12} {r['turns']:>6} {r['documents']:>9}")


@main.command()
@click.pass_obj
@handle_errors
def status(obj: Context) -> None:
    """Summarise the project: documents, segments, codes, codings.

    \b
    Example:
      qualcode status
    """
    store = obj.store()
    counts = store.counts()
    click.echo(f"Project: {store.display_url}")
    for key, value in counts.items():
        click.echo(f"  {key:<10} {value}")


@main.group()
def codebook() -> None:
    """Validate, export and import codebooks (YAML, Excel, REFI-QDA .qdc/.qdpx)."""


@codebook.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
@handle_errors
def codebook_validate(file: str) -> None:
    """Check a codebook: unique ids, parents exist, no cycles, patterns compile.

    \b
    Example:
      qualcode codebook validate codebooks/ips_realist.yaml
    """
    from qualcode.codebook import load_codebook, validate

    cb = load_codebook(Path(file))
    problems = validate(cb)
    for p in problems:
        where = ", ".join(x for x in (file, f"line {p.line}" if p.line else "", f"code {p.code!r}" if p.code else "") if x)
        click.echo(f"{where}: {p.message}", err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in {file}")
    click.echo(f"{file}: valid ({len(cb.codes)} codes, {sum(len(c.rules) for c in cb.codes)} rules)")


@codebook.command("export")
@click.option("--format", "fmt", type=click.Choice(["yaml", "xlsx", "qdc"]), help="Default: from the --out suffix.")
@click.option("--out", required=True, type=click.Path(dir_okay=False))
@click.pass_obj
@handle_errors
def codebook_export(obj: Context, fmt: str | None, out: str) -> None:
    """Export the project's codebook as YAML, an Excel sheet, or a REFI-QDA codebook.

    \b
    Example:
      qualcode codebook export --format xlsx --out codebook.xlsx
    """
    from qualcode.codebook_io import export_codebook

    cb = obj.store().codebook()
    fmt = fmt or Path(out).suffix.lstrip(".").lower().replace("yml", "yaml")
    export_codebook(cb, Path(out), fmt)
    click.echo(f"wrote {out} ({len(cb.codes)} codes)")


@codebook.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_obj
@handle_errors
def codebook_import(obj: Context, file: str) -> None:
    """Make a codebook file (.yaml .xlsx .qdc .qdpx) the project's new codebook version.

    \b
    Example:
      qualcode codebook import nvivo_codebook.qdc
    """
    from qualcode.codebook import validate
    from qualcode.codebook_io import import_codebook
    from qualcode.errors import InvalidCodebook

    cb = import_codebook(Path(file))
    problems = validate(cb)
    if problems:
        p = problems[0]
        raise InvalidCodebook(p.message, file=file, line=p.line, code=p.code)
    version = obj.store().save_codebook(cb)
    click.echo(f"codebook {cb.name} ({len(cb.codes)} codes) is now project codebook version {version}")


@main.group()
def export() -> None:
    """Export segments, codings and review sheets."""


@export.command("segments")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="CSV file to write.")
@click.option("--all-roles", is_flag=True, help="Include interviewer turns.")
@click.pass_obj
@handle_errors
def export_segments_cmd(obj: Context, out: str, all_roles: bool) -> None:
    """Write one CSV row per segment: segment_id, document, site, wave, speaker, role, start, end, text.

    \b
    Example:
      qualcode export segments --out segments.csv
    """
    from qualcode.export.segments import export_segments

    n = export_segments(obj.store(), out, all_roles=all_roles)
    click.echo(f"wrote {out} ({n} segments)")


from qualcode.commands import coding as _coding  # noqa: E402,F401  (registers the coding commands)
from qualcode.commands import analysis as _analysis  # noqa: E402,F401
from qualcode.commands import review as _review  # noqa: E402,F401
from qualcode.commands import outcomes as _outcomes  # noqa: E402,F401
from qualcode.commands import web as _web  # noqa: E402,F401
from qualcode.commands import exchange as _exchange  # noqa: E402,F401
from qualcode.commands import report as _report  # noqa: E402,F401

if __name__ == "__main__":  # pragma: no cover
    main()
