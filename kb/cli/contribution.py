"""Commands for contributors: `kb add` drafts records from arXiv, `kb refs` fills citations.

Light at import time: the `arxiv` package, requests and the suggestion engine load inside the commands.
"""

from __future__ import annotations

import contextlib
import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kb.cli import app, project_of
from kb.errors import KbError
from kb.text import printable

if TYPE_CHECKING:
    from kb.arxiv_api import ArxivPaper
    from kb.draft import Proposal
    from kb.project import Project


@dataclass
class _Planned:
    path: Path
    old: str | None
    new: str
    kind: str  # "draft", "redraft" or "refresh"


@app.command()
@click.argument("ids", nargs=-1, required=True, metavar="ARXIV_ID...")
@click.option(
    "--update",
    is_flag=True,
    help="Existing record: refresh its arXiv facts (a draft is redrafted) and show what changes.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be written; write nothing.")
@click.option("--no-suggest", is_flag=True, help="Skip the suggested classification (no search model is loaded).")
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="Seconds to wait for arXiv."
)
@click.pass_context
def add(
    ctx: click.Context, ids: tuple[str, ...], update: bool, dry_run: bool, no_suggest: bool, timeout: float
) -> None:
    """Draft papers/<id>.yaml for each arXiv id (2311.16922, 2311.16922v2, hep-th/9901001 or an arXiv URL).

    Facts come from arXiv; areas and facets are suggested and marked `# REVIEW`; the summary and
    findings are left as TODO, which `kb validate` refuses until you write them. Either every draft
    is written or none is. The API is KB_ARXIV_API_URL (default: arXiv's export API).
    """
    from kb import arxiv_api, atomic, draft, identifier

    project = project_of(ctx)
    wanted = list(dict.fromkeys(arxiv_api.normalise(text) for text in ids))
    targets = {paper_id: project.papers_dir / f"{identifier.file_stem(paper_id)}.yaml" for paper_id in wanted}
    existing = [paper_id for paper_id, path in targets.items() if path.exists()]
    if existing and not update:
        shown = ", ".join(project.shown(targets[i]) for i in existing)
        raise KbError(
            f"{shown} already exist{'s' if len(existing) == 1 else ''}; nothing written. `kb add --update"
            f" {' '.join(existing)}` refreshes the arXiv facts and shows what changes"
        )
    # Read before fetching: a file another `kb add` creates meanwhile is then a conflict, not an update.
    olds = {paper_id: _read(project, path) for paper_id, path in targets.items()}
    fetcher = arxiv_api.Fetcher(timeout=timeout)
    papers: list[ArxivPaper] = []
    for paper_id in wanted:
        click.echo(f"fetching {paper_id} from arXiv ...", err=True)
        papers.append(fetcher.fetch(paper_id))
    to_draft = [p for p in papers if olds[p.id] is None or draft.is_draft(olds[p.id] or "")]
    drafts = draft_texts(project, to_draft, suggest=not no_suggest)
    plans: list[_Planned] = []
    for paper in papers:
        old = olds[paper.id]
        if paper in to_draft:
            plans.append(_Planned(targets[paper.id], old, drafts[paper.id], "draft" if old is None else "redraft"))
        else:
            plans.append(
                _Planned(targets[paper.id], old, _refreshed_text(project, targets[paper.id], paper), "refresh")
            )
    for plan in plans:
        if plan.old is not None:
            _show_diff(project, plan)
    if dry_run:
        for plan in plans:
            if plan.old is None:
                click.echo(plan.new, nl=False)
        click.echo("dry run: nothing written", err=True)
        return
    written: list[_Planned] = []
    for plan in plans:
        shown = project.shown(plan.path)
        if plan.old == plan.new:
            click.echo(f"unchanged: {shown}", err=True)
            continue
        try:
            # Another `kb add` for the same id may have run meanwhile: never overwrite what it wrote.
            if plan.old is None:
                atomic.create_text(plan.path, plan.new, shown)
            else:
                atomic.replace_text_if_unchanged(plan.path, plan.old, plan.new, shown)
        except KbError:
            _undo(written)
            raise
        written.append(plan)
        if plan.kind == "refresh":
            click.echo(f"updated {shown}; run `kb validate {shown}`")
        else:
            click.echo(
                f"wrote draft {shown}: check the # REVIEW lines, write the TODOs, then run `kb validate {shown}`"
            )


def _read(project: Project, path: Path) -> str | None:
    """An existing record's text (None when there is none), read as safely as `kb validate` reads it."""
    from kb import yamlfile
    from kb.errors import InputError

    if not os.path.lexists(path):
        return None
    try:
        return yamlfile.read_text(path)
    except yamlfile.DocumentError as exc:
        raise InputError(project.shown(path), exc.message, line=exc.line, hint="fix it first") from None


def _undo(written: list[_Planned]) -> None:
    """Either every draft is written or none: take back the new files this run created (updates stay,
    each was checked and is complete on its own)."""
    for plan in written:
        if plan.old is None:
            with contextlib.suppress(OSError):
                if plan.path.read_text(encoding="utf-8") == plan.new:
                    plan.path.unlink()


def draft_texts(project: Project, papers: list[ArxivPaper], suggest: bool = True) -> dict[str, str]:
    """The text of each paper's draft (`kb add` and `kb watch`): arXiv's facts, the suggested classification
    (unless `suggest` is off or the search extra is missing), checked to read back as arXiv's facts."""
    from kb import draft

    proposals = _proposals(project, papers) if suggest and papers else {}
    taxonomy = _taxonomy(project)
    texts = {}
    for paper in papers:
        texts[paper.id] = draft.render(paper, taxonomy, proposals.get(paper.id))
        draft.check_round_trip(texts[paper.id], paper)
    return texts


def _taxonomy(project: Project) -> Any:
    from kb.taxonomy import load_taxonomy

    return load_taxonomy(project.taxonomy_dir, display_root=project.root)


def _proposals(project: Project, papers: list[ArxivPaper]) -> dict[str, Proposal]:
    """Suggested classification per paper, from the valid records; drafts and broken files are skipped."""
    from kb.draft import Proposal
    from kb.knowledge_base import KnowledgeBase
    from kb.loader import read_record

    taxonomy = _taxonomy(project)
    records, files = {}, {}
    for path in sorted(project.papers_dir.glob("*.yaml")):
        _, record, problems = read_record(path, taxonomy, project.shown(path))
        if record is not None and not problems and record.id not in records:
            records[record.id] = record
            files[record.id] = path
    kb = KnowledgeBase(taxonomy=taxonomy, records=records, files=files)
    click.echo(f"suggesting a classification from {len(records)} records ...", err=True)
    try:
        from kb.artefacts import Inputs
        from kb.search.ranking import Searcher
        from kb.search.relevance import open_area_suggester
        from kb.search.suggest import suggest

        inputs = Inputs(project, kb, partial=True)
        searcher = Searcher.open(inputs)
        learned = open_area_suggester(inputs)
        return {
            paper.id: Proposal.of(suggest(searcher, kb, paper.title, paper.abstract, learned=learned))
            for paper in papers
        }
    except ImportError as exc:
        # Suggestions need the search extra; a draft without them is still worth writing.
        click.echo(
            f"no suggestions ({exc.name or exc} is not installed: pip install -e '.[search]'); classify the drafts by"
            " hand",
            err=True,
        )
        return {}


def _refreshed_text(project: Project, path: Path, paper: ArxivPaper) -> str:
    from kb import draft, yamlfile

    try:
        data = yamlfile.load(path).data
    except yamlfile.DocumentError as exc:
        raise KbError(
            f"{project.shown(path)}:{exc.line or 1}: {exc.message}; fix it before `kb add --update`"
        ) from None
    if not isinstance(data, dict):
        raise KbError(
            f"{project.shown(path)}: not a record (the top level is not a mapping); fix it before `kb add --update`"
        )
    if data.get("id") not in (None, paper.id):
        raise KbError(f"{project.shown(path)}: holds id '{data.get('id')}', not '{paper.id}'; not touching it")
    return yamlfile.dump(draft.refreshed(data, paper))


def _show_diff(project: Project, plan: _Planned) -> None:
    shown = project.shown(plan.path)
    diff = list(
        difflib.unified_diff(
            (plan.old or "").splitlines(keepends=True),
            plan.new.splitlines(keepends=True),
            f"{shown} (now)",
            f"{shown} ({plan.kind})",
        )
    )
    if not diff:
        return
    for raw in diff:
        # Record text and arXiv's text are shown to the reviewer: escape what a terminal would act on.
        line = printable(raw.removesuffix("\n")) + "\n"
        color = (
            "green"
            if line.startswith("+") and not line.startswith("+++")
            else "red"
            if line.startswith("-") and not line.startswith("---")
            else None
        )
        click.echo(click.style(line, fg=color) if color else line, nl=False)


@app.command()
@click.argument("ids", nargs=-1, metavar="ID...")
@click.option("--all", "every", is_flag=True, help="Every record with an arXiv id, asked in batches of 500.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds to wait for the citation API.",
)
@click.pass_context
def refs(ctx: click.Context, ids: tuple[str, ...], every: bool, dry_run: bool, timeout: float) -> None:
    """Add to `cites` the records in papers/ that each paper cites, per Semantic Scholar.

    Only references whose arXiv id is a record are kept; nothing is guessed and nothing is removed.
    Papers whose references were read are noted in curation/citations.json (the site shows citations
    only for those). With --all, a rate limit is waited out (Retry-After) and, if the API still refuses,
    every paper answered so far is kept. The API is KB_CITATIONS_API_URL (default: Semantic Scholar's
    Graph API); KB_SEMANTIC_SCHOLAR_API_KEY, when set, is sent as the API key.
    """
    import datetime as dt

    from kb import citation_log, citations, yamlfile
    from kb.errors import InputError
    from kb.taxonomy import did_you_mean

    if bool(ids) == every:
        raise KbError("give record ids or --all (not both)")
    project = project_of(ctx)
    known = citations.record_ids(project.papers_dir)
    targets: dict[str, tuple[Path, str, dict[str, Any]]] = {}  # arXiv id -> file, text, data
    wanted = sorted({_record_id(known, i) or i for i in known}) if every else list(ids)
    for paper_id in wanted:
        path = known.get(paper_id)
        if path is None:
            raise KbError(f"no record '{paper_id}' in papers/{did_you_mean(paper_id, known)}")
        text = _read(project, path) or ""
        try:
            data = yamlfile.parse(text).data
        except yamlfile.DocumentError as exc:
            raise InputError(project.shown(path), exc.message, line=exc.line, hint="fix it before `kb refs`") from None
        if not isinstance(data, dict):
            raise InputError(
                project.shown(path),
                "not a record (the top level is not a mapping)",
                line=1,
                hint="fix it before `kb refs`",
            )
        arxiv_id = citations.arxiv_id_of(data)
        if arxiv_id is None:
            if every:
                continue  # a slug record without an arXiv id: Semantic Scholar is asked by arXiv id
            raise KbError(
                f"{project.shown(path)}: has no arXiv id (links.arxiv); Semantic Scholar is asked by arXiv id"
            )
        targets[arxiv_id] = (path, text, data)
    log = citation_log.read(project.root)
    today = dt.date.today()
    if every:
        click.echo(f"asking Semantic Scholar for the references of {len(targets)} papers ...", err=True)
        batch = citations.fetch_all(
            list(targets), timeout=timeout, progress=lambda done, total: click.echo(f"  {done}/{total}", err=True)
        )
        found, unknown, error = batch.found, batch.unknown, batch.error
    else:
        found, unknown, error = {}, [], None
        for arxiv_id in targets:
            click.echo(f"asking Semantic Scholar for the references of {arxiv_id} ...", err=True)
            found[arxiv_id] = citations.fetch_references(arxiv_id, timeout=timeout)
    changed = 0
    for arxiv_id, references in found.items():
        path, text, data = targets[arxiv_id]
        citation_log.record(log, str(data.get("id")), references.total, len(references.arxiv_ids), today)
        own = {data.get("id"), arxiv_id}
        in_corpus = [
            known_id
            for known_id in (_record_id(known, i) for i in references.arxiv_ids)
            if known_id is not None and known_id not in own
        ]
        current = [c for c in data.get("cites") or [] if isinstance(c, str)]
        added = [c for c in dict.fromkeys(in_corpus) if c not in current]
        shown = project.shown(path)
        if not every:
            click.echo(
                f"{shown}: {references.total} references listed, {len(references.arxiv_ids)} with an arXiv id,"
                f" {len(set(in_corpus))} of them records here",
                err=True,
            )
        if not added:
            if not every:
                click.echo(f"unchanged: {shown} (cites {len(current)} records)")
            continue
        new_text = citations.updated_text(text, current + sorted(added))
        _show_diff(project, _Planned(path, text, new_text, "refs"))
        changed += 1
        if dry_run:
            continue
        from kb import atomic

        atomic.replace_text_if_unchanged(path, text, new_text, shown)
        click.echo(f"updated {shown}: cites {', '.join(sorted(added))} added")
    if dry_run:
        click.echo("dry run: nothing written", err=True)
    else:
        citation_log.write(project.root, log)
    if every:
        click.echo(
            f"{len(found)} papers answered, {changed} records gain citations, {len(unknown)} unknown to Semantic"
            " Scholar",
            err=True,
        )
    if error is not None:
        raise KbError(
            f"{error}; the {len(found)} papers answered before it are kept, {len(batch.left)} were not asked: run `kb"
            " refs --all` again later"
        )


def _record_id(known: dict[str, Path], arxiv_id: str) -> str | None:
    """The record id that holds an arXiv id (a slug record may carry it in links.arxiv)."""
    from kb import yamlfile

    path = known.get(arxiv_id)
    if path is None:
        return None
    try:
        data = yamlfile.load(path).data
    except yamlfile.DocumentError:
        return None
    return data.get("id") if isinstance(data, dict) else None
