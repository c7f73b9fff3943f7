"""Commands that keep the knowledge base current, run weekly by the scheduled workflow: `kb watch` drafts new
papers from arXiv, `kb refresh` updates records' facts from arXiv, `kb links` checks code and project links.

Light at import time: the `arxiv` package, requests, numpy and faiss load inside the commands.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from kb.cli import app, project_of
from kb.cli.contribution import _Planned, _show_diff, draft_texts
from kb.errors import KbError

SHOWN_BELOW = 10


@app.command()
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="List submissions from this date (default: where the last watch stopped, curation/watch.json).",
)
@click.option(
    "--max",
    "max_drafts",
    type=click.IntRange(min=0),
    default=25,
    show_default=True,
    help="Draft at most this many papers (the best scored); the others passing the threshold are listed.",
)
@click.option("--dry-run", is_flag=True, help="List and rank, write nothing (no drafts, no state).")
@click.option("--json", "as_json", is_flag=True, help="Print what was found and decided as JSON.")
@click.option("--no-suggest", is_flag=True, help="Drafts without the suggested classification.")
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="Seconds to wait for arXiv."
)
@click.option(
    "--page-size",
    type=click.IntRange(min=1, max=2000),
    default=200,
    show_default=True,
    help="Entries per request to arXiv's API.",
)
@click.pass_context
def watch(
    ctx: click.Context,
    since: dt.datetime | None,
    max_drafts: int,
    dry_run: bool,
    as_json: bool,
    no_suggest: bool,
    timeout: float,
    page_size: int,
) -> None:
    """Draft the new arXiv papers that belong in the knowledge base.

    Lists recent submissions in the relevant categories (KB_ARXIV_API_URL, KB_ARXIV_DELAY seconds between
    pages), skips records, drafts and the triage file, ranks the rest with the learned discovery model and
    writes a `kb add` draft for each paper that reaches its threshold. Remembers where it stopped in
    curation/watch.json. A failed request writes nothing.
    """
    from kb import arxiv_api, atomic, identifier
    from kb import watch as watching
    from kb.artefacts import Inputs
    from kb.loader import load_valid
    from kb.search.relevance import Paper, open_scorer

    project = project_of(ctx)
    kb, _ = load_valid(project)
    state = watching.read_state(project)
    start = since.date() if since is not None else state.since(dt.date.today())
    scorer = open_scorer(Inputs(project, kb, partial=True))
    if scorer is None:
        raise KbError("no discovery model (curation/discovery-model.json): train one with `kb discover FILE --train`")
    query = watching.query(kb, start)
    fetcher = arxiv_api.Fetcher(timeout=timeout)
    click.echo(f"listing arXiv submissions since {start.isoformat()} ...", err=True)
    listing = arxiv_api.listing(fetcher, query, start, page_size=page_size)
    candidates = watching.to_score(listing.papers, kb, project.papers_dir)
    scores = watching.scores_of(scorer.scores([Paper(p.id, p.title, p.abstract) for p in candidates]), candidates)
    decisions = watching.decide(listing.papers, kb, project.papers_dir, scores, scorer.model.threshold)
    passing = [d for d in decisions if d.verdict == "draft"]
    chosen, over = passing[:max_drafts], passing[max_drafts:]
    texts = draft_texts(project, [d.paper for d in chosen], suggest=not no_suggest) if chosen else {}
    through = watching.newest(listing.papers, state.through)
    counts = {
        verdict: sum(1 for d in decisions if d.verdict == verdict)
        for verdict in ("record", "triaged", "below", "draft")
    }
    files = {d.paper.id: project.papers_dir / f"{identifier.file_stem(d.paper.id)}.yaml" for d in chosen}
    if as_json:

        def row(d: Any) -> dict[str, Any]:
            return {
                "id": d.paper.id,
                "title": d.paper.title,
                "published": d.paper.published.isoformat(),
                "score": d.score,
            }

        click.echo(
            json.dumps(
                {
                    "since": start.isoformat(),
                    "through": through.isoformat() if through else None,
                    "query": query,
                    "listed": len(listing.papers),
                    "pages": listing.pages,
                    "threshold": round(scorer.model.threshold, 4),
                    "records": counts["record"],
                    "triaged": counts["triaged"],
                    "below": counts["below"],
                    "withdrawn": [s.id for s in listing.withdrawn],
                    "malformed": [s.reason for s in listing.malformed],
                    "drafted": [{**row(d), "file": project.shown(files[d.paper.id])} for d in chosen],
                    "over_max": [row(d) for d in over],
                    "best_below": [row(d) for d in decisions if d.verdict == "below"][:SHOWN_BELOW],
                    "dry_run": dry_run,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        click.echo(
            f"{len(listing.papers)} papers listed in {listing.pages} page(s): {counts['record']} already records or"
            f" drafts, {counts['triaged']} triaged, {counts['below']} below the threshold {scorer.model.threshold:.2f},"
            f" {counts['draft']} above it",
            err=True,
        )
        for skipped in [*listing.withdrawn, *listing.malformed]:
            click.echo(f"skipped {skipped.id or 'an entry'}: {skipped.reason}", err=True)
        for d in chosen:
            click.echo(f"{d.score:.3f}  {d.paper.id}  {d.paper.title}")
        for d in over:
            click.echo(f"{d.score:.3f}  {d.paper.id}  {d.paper.title}  (over --max {max_drafts}: not drafted)")
    if dry_run:
        click.echo("dry run: nothing written", err=True)
        return
    for d in chosen:
        atomic.write_text(files[d.paper.id], texts[d.paper.id])
    watching.write_state(project, watching.State(through))
    if not as_json:
        click.echo(
            f"wrote {len(chosen)} draft(s); the next watch starts from"
            f" {watching.State(through).since(dt.date.today())}",
            err=True,
        )


@app.command()
@click.argument("ids", nargs=-1, metavar="ID...")
@click.option("--all", "every", is_flag=True, help="Every record with an arXiv id.")
@click.option("--write", is_flag=True, help="Write the changes (default: only show them).")
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="Seconds to wait for arXiv."
)
@click.pass_context
def refresh(ctx: click.Context, ids: tuple[str, ...], every: bool, write: bool, timeout: float) -> None:
    """Update records with arXiv's current facts: fill unknown authors, propose a venue from the journal
    reference and a DOI link, record a changed title (the old one becomes an alias). Never changes what a
    person wrote or a fact the record already states (disagreements are printed). Shows a diff; writes
    only with --write, each file atomically, and only when every request succeeded."""
    from kb import arxiv_api, atomic, citations, record_text, yamlfile
    from kb.records import BEFORE_FACETS, Record
    from kb.refresh import refresh as proposed
    from kb.taxonomy import did_you_mean

    if bool(ids) == every:
        raise KbError("give record ids or --all (not both)")
    project = project_of(ctx)
    known = citations.record_ids(project.papers_dir)
    paths = sorted(set(known.values())) if every else []
    for paper_id in ids:
        path = known.get(paper_id)
        if path is None:
            try:
                path = known.get(arxiv_api.normalise(paper_id))  # a versioned id or an arXiv URL
            except KbError:
                path = None
        if path is None:
            raise KbError(f"no record '{paper_id}' in papers/{did_you_mean(paper_id, known)}")
        paths.append(path)
    targets: dict[str, tuple[Path, str, dict[str, Any]]] = {}
    for path in dict.fromkeys(paths):
        text = path.read_text(encoding="utf-8")
        try:
            data = yamlfile.parse(text).data
        except yamlfile.DocumentError as exc:
            raise KbError(f"{project.shown(path)}:{exc.line or 1}: {exc.message}; fix it before `kb refresh`") from None
        arxiv_id = citations.arxiv_id_of(data) if isinstance(data, dict) else None
        if arxiv_id is None:
            if every:
                continue
            raise KbError(f"{project.shown(path)}: has no arXiv id (links.arxiv); arXiv is asked by id")
        targets[arxiv_id] = (path, text, data)
    click.echo(f"asking arXiv for {len(targets)} paper(s) ...", err=True)
    found, skipped = arxiv_api.fetch_many(arxiv_api.Fetcher(timeout=timeout), list(targets))
    order = [*BEFORE_FACETS, *(f for f in Record.model_fields if f not in BEFORE_FACETS)]
    plans: list[_Planned] = []
    for arxiv_id, (path, text, data) in targets.items():
        shown = project.shown(path)
        paper = found.get(arxiv_id)
        if paper is None:
            reason = next((s.reason for s in skipped if s.id == arxiv_id), "arXiv returned no entry for it")
            click.echo(f"{shown}: not refreshed: {reason}", err=True)
            continue
        change = proposed(data, paper)
        for note in change.notes:
            click.echo(f"{shown}: {note}", err=True)
        if not change.changes:
            continue
        try:
            new_text = record_text.updated(text, change.changes, order)
        except KbError as exc:
            click.echo(f"{shown}: not refreshed: {exc}", err=True)
            continue
        plans.append(_Planned(path, text, new_text, "refresh"))
    for plan in plans:
        _show_diff(project, plan)
    click.echo(
        (
            f"{len(plans)} of {len(targets)} record(s) would change"
            if not write
            else f"{len(plans)} of {len(targets)} record(s) change"
        ),
        err=True,
    )
    if not write:
        if plans:
            click.echo("nothing written: run again with --write", err=True)
        return
    for plan in plans:
        atomic.write_text(plan.path, plan.new)
        click.echo(f"updated {project.shown(plan.path)}")


@app.command()
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=15.0,
    show_default=True,
    help="Seconds to wait for each answer.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=32),
    default=8,
    show_default=True,
    help="Requests at once (never more than one per host).",
)
@click.option("--json", "as_json", is_flag=True, help="Print every link's result as JSON.")
@click.pass_context
def links(ctx: click.Context, timeout: float, concurrency: int, as_json: bool) -> None:
    """Check the records' code and project links: HEAD, then GET where HEAD is refused; redirects followed.
    Prints the dead ones (file, field, link, why) and exits 1 when there are any."""
    from kb import links as checking
    from kb.loader import load_valid

    project = project_of(ctx)
    kb, _ = load_valid(project)
    found = [
        checking.Link(project.shown(kb.files[r.id]), f"links.{name}", url)
        for r in sorted(kb, key=lambda r: r.id)
        for name in ("code", "project")
        if (url := getattr(r.links, name))
    ]
    click.echo(f"checking {len(found)} links ...", err=True)
    results = checking.check(found, timeout=timeout, concurrency=concurrency)
    dead = [r for r in results if r.dead]
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "file": r.link.record,
                        "field": r.link.field,
                        "url": r.link.url,
                        "status": r.status,
                        "final_url": r.final_url,
                        "problem": r.problem,
                    }
                    for r in results
                ],
                indent=2,
            )
        )
    else:
        for r in dead:
            click.echo(f"{r.link.record}: {r.link.field}: {r.link.url}: {r.problem}")
    click.echo(f"{len(results) - len(dead)} of {len(results)} links answer; {len(dead)} dead", err=True)
    if dead:
        ctx.exit(1)
