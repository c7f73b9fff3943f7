"""Commands on the records themselves: validate, schema, build, list, show, stats."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import click

from kb import yamlfile
from kb.cli import app, project_of
from kb.cli.facet_options import FacetCommand, facet_values
from kb.errors import KbError
from kb.years import parse_years


@app.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
def validate(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Check the taxonomy and every record; with PATHs, report only those files' problems."""
    from kb.loader import load

    started = time.perf_counter()
    kb = load(project_of(ctx), only=list(paths) if paths else None, with_triage=True)
    click.echo(f"ok: {len(kb)} records, {len(kb.taxonomy.areas)} areas valid ({time.perf_counter() - started:.2f} s)")


@app.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to a file instead of standard output.",
)
@click.pass_context
def schema(ctx: click.Context, output: Path | None) -> None:
    """Print the JSON Schema of a record (committed as schema/record.schema.json for editors)."""
    from kb.records import json_schema
    from kb.taxonomy import load_taxonomy

    project = project_of(ctx)
    text = (
        json.dumps(json_schema(load_taxonomy(project.taxonomy_dir, project.root)), indent=2, ensure_ascii=False) + "\n"
    )
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@app.command()
@click.option("--force", is_flag=True, help="Rebuild even when nothing changed.")
@click.pass_context
def build(ctx: click.Context, force: bool) -> None:
    """Validate the records and write build/kb.sqlite (atomically; no work when nothing changed)."""
    from kb import db
    from kb.loader import load

    project = project_of(ctx)
    started = time.perf_counter()
    if not force and db.is_current(project):
        # The last build succeeded on exactly these files, so they are valid and the database agrees.
        click.echo(
            f"up to date: {_shown_url(project.database_url, project.root)} ({time.perf_counter() - started:.2f} s)"
        )
        return
    result = db.build(load(project), project, force=force)
    state = "built" if result.changed else "up to date"
    click.echo(
        f"{state}: {result.papers} papers in {_shown_url(result.target, project.root)}"
        f" ({time.perf_counter() - started:.2f} s)"
    )


def _shown_url(url: str, root: Path) -> str:
    path = url.removeprefix("sqlite:///")
    return (
        str(Path(path).relative_to(root))
        if path != url and Path(path).is_relative_to(root)
        else re.sub(r"//[^@/]*@", "//***@", url)
    )


def years_option(text: str | None) -> tuple[int | None, int | None]:
    if not text:
        return None, None
    try:
        return parse_years(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--year") from None


@app.command("list", cls=FacetCommand)
@click.option("--area", help="Taxonomy area id; includes the areas below it (e.g. model.token).")
@click.option("--year", "years", help="A year or range: 2024, 2023..2025, 2023.., ..2024.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def list_(ctx: click.Context, /, area: str | None, years: str | None, as_json: bool, **facets: str | None) -> None:
    """List papers matching every filter given, newest first. Each facet of taxonomy/facets.yaml is a filter."""
    from kb import db
    from kb.taxonomy import load_taxonomy

    project = project_of(ctx)
    taxonomy = load_taxonomy(project.taxonomy_dir, project.root)
    wanted = facet_values(facets)
    try:
        area_ids = taxonomy.descendants(area) if area is not None else None
        if area is not None and area not in taxonomy.areas:
            taxonomy.check_leaf(area)
        values = {key: taxonomy.facet(key).resolve(value) for key, value in wanted.items()}
    except ValueError as exc:
        raise KbError(str(exc)) from None
    query = db.Query(area=area, years=years_option(years), facets=values)
    engine = db.ensure_built(project)
    papers = db.list_papers(engine, query, area_ids)
    if as_json:
        found = db.facets_of(engine, [p.id for p in papers])
        click.echo(
            json.dumps(
                [{"id": p.id, "year": p.year, "title": p.title, "facets": found[p.id]} for p in papers],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    for paper in papers:
        click.echo(f"{paper.id:<12} {paper.year}  {paper.title}")
    click.echo(f"{len(papers)} paper(s)", err=True)


@app.command()
@click.argument("paper_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--yaml", "as_yaml", is_flag=True, help="Print the record as YAML.")
@click.pass_context
def show(ctx: click.Context, paper_id: str, as_json: bool, as_yaml: bool) -> None:
    """Print one record with what cites it and what builds on it."""
    from kb import db
    from kb.taxonomy import did_you_mean

    project = project_of(ctx)
    engine = db.ensure_built(project)
    data = db.get_paper(engine, paper_id)
    if data is None:
        ids = [p.id for p in db.list_papers(engine, db.Query())]
        raise KbError(f"no paper '{paper_id}'{did_you_mean(paper_id, ids)}")
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    elif as_yaml:
        click.echo(yamlfile.dump({k: v for k, v in data.items() if k not in ("cited_by", "built_on_by")}), nl=False)
    else:
        from kb.taxonomy import load_taxonomy

        fields = [f.field for f in load_taxonomy(project.taxonomy_dir, project.root).registry]
        click.echo(_human(data, fields))


def _human(data: dict[str, Any], facet_fields: list[str]) -> str:
    lines = [click.style(str(data["title"]), bold=True)]
    authors = data.get("authors") or []
    lines.append(", ".join(map(str, authors)) if authors else "(authors unknown)")
    lines.append(" · ".join(str(x) for x in (data["id"], data["year"], data.get("venue")) if x))
    for key in ("taxonomy", *facet_fields):
        value = data.get(key)
        if value:
            lines.append(f"{key:>15}: {', '.join(value) if isinstance(value, list) else value}")
    lines += ["", str(data["summary"]), ""]
    lines += [f"  - {finding}" for finding in data.get("findings", [])]
    if data.get("curators_note"):
        lines += ["", f"Curators' note (our view, not the paper's): {data['curators_note']}"]
    links = data.get("links") or {}
    for key, value in links.items():
        lines.append(f"{key:>15}: {value}")
    for key in ("builds_on", "cites", "built_on_by", "cited_by"):
        value = data.get(key)
        if value:
            shown = [f"{e['id']} ({e['relation']})" if isinstance(e, dict) else str(e) for e in value]
            lines.append(f"{key:>15}: {', '.join(shown)}")
    if data.get("implementation"):
        lines.append(f"{'implementation':>15}: {data['implementation']}")
    return "\n".join(lines)


@app.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Counts of papers per area, year, granularity, modality and contribution."""
    from kb.loader import load
    from kb.statistics import compute

    table = compute(load(project_of(ctx)))
    if as_json:
        click.echo(json.dumps(table, indent=2))
        return
    for section, counts in table.items():
        click.echo(click.style(section, bold=True))
        width = max((len(k) for k in counts), default=0)
        for key, count in counts.items():
            click.echo(f"  {key:<{width}}  {count:>4}")
