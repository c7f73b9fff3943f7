"""Commands for search: `kb search`, `kb related`, `kb suggest`, `kb discover`. Light at import time:
numpy, faiss, bm25s and (only where needed) torch are imported inside the commands."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kb.cli import app, project_of
from kb.cli.facet_options import FacetCommand, facet_values


@app.command(cls=FacetCommand)
@click.argument("query", nargs=-1)
@click.option(
    "-k", "k", type=click.IntRange(min=1, max=1000), default=10, show_default=True, help="How many papers to show."
)
@click.option("--area", help="Only papers in this taxonomy area or below it (id or name, e.g. model.neuron).")
@click.option("--year", "years", help="A year or a range: 2024, 2023..2025, 2024.. or ..2023.")
@click.option(
    "--ranker",
    type=click.Choice(["hybrid", "bm25", "static", "dense"]),
    default="hybrid",
    show_default=True,
    help="hybrid is the shipped ranker; the others are the baselines it is measured against.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of {id, title, year, score, areas, match}.")
@click.pass_context
def search(
    ctx: click.Context,
    /,
    query: tuple[str, ...],
    k: int,
    area: str | None,
    years: str | None,
    ranker: str,
    as_json: bool,
    **facets: str | None,
) -> None:
    """Find papers answering a question, e.g. kb search "which methods find neurons that fire only for images".
    Each facet of taxonomy/facets.yaml is a filter."""
    from kb.artefacts import Inputs
    from kb.cli.records import years_option
    from kb.search.ranking import Filters, Searcher

    filters = Filters(area=area, years=years_option(years) if years else None, facets=facet_values(facets))
    hits = Searcher.open(Inputs(project_of(ctx)), progress=True).search(" ".join(query), k, filters, ranker)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": h.id,
                        "title": h.title,
                        "year": h.year,
                        "score": h.score,
                        "areas": list(h.areas),
                        "match": h.match,
                    }
                    for h in hits
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not hits:
        click.echo("no good match: no paper names these words or holds enough of them; try other words", err=True)
        return
    for rank, hit in enumerate(hits, 1):
        exact = f"  [{hit.match}]" if hit.match else ""
        click.echo(f"{rank:3}. {hit.score:.3f}  {hit.id}  {hit.title} ({hit.year}){exact}")


@app.command()
@click.argument("paper_id")
@click.option("-k", "k", type=click.IntRange(min=1, max=100), default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def related(ctx: click.Context, paper_id: str, k: int, as_json: bool) -> None:
    """The papers nearest in meaning to PAPER_ID."""
    from kb.artefacts import Inputs
    from kb.search.related import related as nearest
    from kb.search.store import ensure_index

    index = ensure_index(Inputs(project_of(ctx)))
    pairs = nearest(index, paper_id, k)
    titles = {d.id: d.title for d in index.documents}
    if as_json:
        click.echo(
            json.dumps(
                [{"id": i, "title": titles.get(i, ""), "score": s} for i, s in pairs], ensure_ascii=False, indent=2
            )
        )
        return
    for rank, (other, score) in enumerate(pairs, 1):
        click.echo(f"{rank:3}. {score:.3f}  {other}  {titles.get(other, '')}")


@app.command()
@click.option("--title", required=True, help="The new paper's title.")
@click.option("--abstract", default="", help="Its abstract (or a summary).")
@click.option(
    "-n", "n", type=click.IntRange(min=1, max=20), default=3, show_default=True, help="Values to show per field."
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def suggest(ctx: click.Context, title: str, abstract: str, n: int, as_json: bool) -> None:
    """Suggest taxonomy areas and facet values for a new paper."""
    from kb.artefacts import Inputs
    from kb.errors import KbError
    from kb.search.ranking import Searcher
    from kb.search.suggest import suggest as propose

    if not title.strip():
        raise KbError("--title is empty")
    from kb.search.relevance import open_area_suggester

    inputs = Inputs(project_of(ctx))
    result = propose(Searcher.open(inputs), inputs.kb, title, abstract, learned=open_area_suggester(inputs))
    if as_json:
        data = {
            "areas": [[a, s] for a, s in result.areas[:n]],
            "facets": {f: [[v, s] for v, s in values[:n]] for f, values in result.facets.items()},
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo("areas:          " + (", ".join(f"{a} ({s:.2f})" for a, s in result.areas[:n]) or "-"))
    for facet, values in result.facets.items():
        click.echo(f"{facet + ':':15} " + (", ".join(f"{v} ({s:.2f})" for v, s in values[:n]) or "-"))


@app.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-n", "n", type=click.IntRange(min=1), default=50, show_default=True, help="How many new papers to show.")
@click.option(
    "--train",
    is_flag=True,
    help=(
        "Learn the ranking from the records (positives) and the triage file "
        "(negatives) found in FILE, report cross-validated metrics and write curation/discovery-model.json."
    ),
)
@click.option("--untrained", is_flag=True, help="Rank by the naive-Bayes log-odds, ignoring the learned model.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def discover(ctx: click.Context, file: Path, n: int, train: bool, untrained: bool, as_json: bool) -> None:
    """Rank the papers of a bulk arXiv metadata file (JSON lines, optionally .gz) by how likely they
    belong in the knowledge base and are not yet in it."""
    from kb.artefacts import Inputs
    from kb.search.discover import discover as rank

    inputs = Inputs(project_of(ctx), with_triage=True)
    if train:
        from kb.search import relevance

        click.echo(f"training on the records and triaged papers in {file} ...", err=True)
        result = relevance.train(inputs, file, progress=True)
        path = relevance.write(inputs, result.model)
        info = result.model.info
        if as_json:
            click.echo(json.dumps(info, ensure_ascii=False, indent=2))
            return
        metrics = info["metrics"]
        click.echo(
            f"wrote {inputs.project.shown(path)}: {info['positives']} records and {info['negatives']} triaged papers, "
            f"{info['words']} words"
        )
        click.echo(
            f"{metrics['cv_folds']}-fold cross-validated ROC AUC {metrics['cv_roc_auc']:.3f}, precision of the top 50 "
            f"{metrics['cv_precision_top50']:.2f}; threshold {result.model.threshold:.3f} (precision "
            f"{metrics['threshold_precision']:.2f}, recall {metrics['threshold_recall']:.2f})"
        )
        return
    found = rank(inputs, file, learned=not untrained)
    new = [c for c in found if c.new][:n]
    if as_json:
        click.echo(
            json.dumps(
                [{"id": c.id, "title": c.title, "score": c.score, "area": c.area} for c in new],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for rank_no, c in enumerate(new, 1):
        click.echo(f"{rank_no:3}. {c.score:.3f}  {c.id}  [{c.area}]  {c.title}")
