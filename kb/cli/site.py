"""`kb site build`, `kb site serve` and `kb export`; mkdocs, plotly and torch load inside the commands."""

from __future__ import annotations

from pathlib import Path

import click

from kb.cli import app, project_of

EXPORT_FORMATS = ("bibtex", "csl-json", "jsonl")


@app.group()
def site() -> None:
    """Build or preview the static site."""


@site.command("build")
@click.option("--no-xai", is_flag=True, help="Skip the explainability benchmark and method pages (faster).")
@click.pass_context
def site_build(ctx: click.Context, no_xai: bool) -> None:
    """Build the database, search assets, xai results and the site into build/site/."""
    from kb.site.build import build

    report = build(project_of(ctx), xai=not no_xai)
    generated = report.generated
    sizes = sum(generated.search_sizes.values())
    click.echo(
        f"built {report.papers} papers, {generated.pages} pages into {report.site_dir} in {report.seconds:.1f} s"
    )
    click.echo("  " + ", ".join(f"{k} {v:.1f} s" for k, v in generated.timings.items()))
    click.echo(f"  browser search: {sizes / 1024 / 1024:.2f} MiB")
    for note in generated.notes:
        click.echo(f"  note: {note}")


@site.command("serve")
@click.option("--address", default="127.0.0.1:8000", show_default=True, help="Host and port to serve on.")
@click.option("--no-xai", is_flag=True, help="Skip the explainability benchmark and method pages.")
@click.pass_context
def site_serve(ctx: click.Context, address: str, no_xai: bool) -> None:
    """Preview the site with live reload; edits to papers/, taxonomy/ and site/ rebuild it."""
    from kb.site.build import serve

    serve(project_of(ctx), address=address, xai=not no_xai)


@app.command("export")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="bibtex", show_default=True)
@click.option("--area", default=None, help="Only papers in this area (and the areas below it).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to a file (default: standard output).",
)
@click.pass_context
def export_command(ctx: click.Context, fmt: str, area: str | None, output: Path | None) -> None:
    """Export the knowledge base as BibTeX, CSL-JSON or JSON Lines."""
    from kb import export
    from kb.errors import KbError
    from kb.loader import load
    from kb.taxonomy import did_you_mean

    kb = load(project_of(ctx))
    if area is not None and area not in kb.taxonomy.areas:
        raise KbError(f"unknown area '{area}'{did_you_mean(area, kb.taxonomy.areas)}")
    text = export.export(kb, fmt, area)
    if output is None:
        click.echo(text, nl=False)
        return
    from kb import atomic

    atomic.write_text(output, text)
    click.echo(f"wrote {len(export.selected(kb, area))} papers to {output}", err=True)
