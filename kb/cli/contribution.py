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
@click.option("--update", is_flag=True, help="Existing record: refresh its arXiv facts (a draft is redrafted) and show what changes.")
@click.option("--dry-run", is_flag=True, help="Show what would be written; write nothing.")
@click.option("--no-suggest", is_flag=True, help="Skip the suggested classification (no search model is loaded).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="Seconds to wait for arXiv.")
@click.pass_context
def add(ctx: click.Context, ids: tuple[str, ...], update: bool, dry_run: bool, no_suggest: bool, timeout: float) -> None:
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
        raise KbError(f"{shown} already exist{'s' if len(existing) == 1 else ''}; nothing written. `kb add --update {' '.join(existing)}` refreshes the arXiv facts and shows what changes")
    fetcher = arxiv_api.Fetcher(timeout=timeout)
    papers: list[ArxivPaper] = []
    for paper_id in wanted:
        click.echo(f"fetching {paper_id} from arXiv ...", err=True)
        papers.append(fetcher.fetch(paper_id))
    olds = {p.id: _read(project, targets[p.id]) for p in papers}
    to_draft = [p for p in papers if olds[p.id] is None or draft.is_draft(olds[p.id] or "")]
    proposals = {} if no_suggest or not to_draft else _proposals(project, to_draft)
    taxonomy = _taxonomy(project)
    plans: list[_Planned] = []
    for paper in papers:
        old = olds[paper.id]
        if paper in to_draft:
            text = draft.render(paper, taxonomy, proposals.get(paper.id))
            draft.check_round_trip(text, paper)
            plans.append(_Planned(targets[paper.id], old, text, "draft" if old is None else "redraft"))
        else:
            plans.append(_Planned(targets[paper.id], old, _refreshed_text(project, targets[paper.id], paper), "refresh"))
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
            click.echo(f"wrote draft {shown}: check the # REVIEW lines, write the TODOs, then run `kb validate {shown}`")


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
        from kb.search.suggest import suggest

        searcher = Searcher.open(Inputs(project, kb, partial=True))
        return {paper.id: Proposal.of(suggest(searcher, kb, paper.title, paper.abstract)) for paper in papers}
    except ImportError as exc:
        # Suggestions need the search extra; a draft without them is still worth writing.
        click.echo(f"no suggestions ({exc.name or exc} is not installed: pip install -e '.[search]'); classify the drafts by hand", err=True)
        return {}


def _refreshed_text(project: Project, path: Path, paper: ArxivPaper) -> str:
    from kb import draft, yamlfile

    try:
        data = yamlfile.load(path).data
    except yamlfile.DocumentError as exc:
        raise KbError(f"{project.shown(path)}:{exc.line or 1}: {exc.message}; fix it before `kb add --update`") from None
    if not isinstance(data, dict):
        raise KbError(f"{project.shown(path)}: not a record (the top level is not a mapping); fix it before `kb add --update`")
    if data.get("id") not in (None, paper.id):
        raise KbError(f"{project.shown(path)}: holds id '{data.get('id')}', not '{paper.id}'; not touching it")
    return yamlfile.dump(draft.refreshed(data, paper))


def _show_diff(project: Project, plan: _Planned) -> None:
    shown = project.shown(plan.path)
    diff = list(difflib.unified_diff((plan.old or "").splitlines(keepends=True), plan.new.splitlines(keepends=True), f"{shown} (now)", f"{shown} ({plan.kind})"))
    if not diff:
        return
    for line in diff:
        # Record text and arXiv's text are shown to the reviewer: escape what a terminal would act on.
        line = printable(line.removesuffix("\n")) + "\n"
        color = "green" if line.startswith("+") and not line.startswith("+++") else "red" if line.startswith("-") and not line.startswith("---") else None
        click.echo(click.style(line, fg=color) if color else line, nl=False)


@app.command()
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="Seconds to wait for the citation API.")
@click.pass_context
def refs(ctx: click.Context, ids: tuple[str, ...], dry_run: bool, timeout: float) -> None:
    """Add to `cites` the records in papers/ that each paper cites, per Semantic Scholar.

    Only references whose arXiv id is a record are kept; nothing is guessed and nothing is removed.
    The API is KB_CITATIONS_API_URL (default: Semantic Scholar's Graph API).
    """
    from kb import citations, yamlfile
    from kb.errors import InputError
    from kb.taxonomy import did_you_mean

    project = project_of(ctx)
    known = citations.record_ids(project.papers_dir)
    for paper_id in ids:
        path = known.get(paper_id)
        if path is None:
            raise KbError(f"no record '{paper_id}' in papers/{did_you_mean(paper_id, known)}")
        text = _read(project, path) or ""
        try:
            data = yamlfile.parse(text).data
        except yamlfile.DocumentError as exc:
            raise InputError(project.shown(path), exc.message, line=exc.line, hint="fix it before `kb refs`") from None
        if not isinstance(data, dict):
            raise InputError(project.shown(path), "not a record (the top level is not a mapping)", line=1,
                             hint="fix it before `kb refs`")
        arxiv_id = citations.arxiv_id_of(data)
        if arxiv_id is None:
            raise KbError(f"{project.shown(path)}: has no arXiv id (links.arxiv); Semantic Scholar is asked by arXiv id")
        click.echo(f"asking Semantic Scholar for the references of {arxiv_id} ...", err=True)
        found = citations.fetch_references(arxiv_id, timeout=timeout)
        own = {data.get("id"), arxiv_id}
        in_corpus = [known_id for known_id in (_record_id(known, i) for i in found.arxiv_ids) if known_id is not None and known_id not in own]
        current = [c for c in data.get("cites") or [] if isinstance(c, str)]
        added = [c for c in dict.fromkeys(in_corpus) if c not in current]
        shown = project.shown(path)
        click.echo(f"{shown}: {found.total} references listed, {len(found.arxiv_ids)} with an arXiv id, {len(set(in_corpus))} of them records here", err=True)
        if not added:
            click.echo(f"unchanged: {shown} (cites {len(current)} records)")
            continue
        new_text = citations.updated_text(text, current + sorted(added))
        _show_diff(project, _Planned(path, text, new_text, "refs"))
        if dry_run:
            click.echo("dry run: nothing written", err=True)
            continue
        from kb import atomic

        atomic.replace_text_if_unchanged(path, text, new_text, shown)
        click.echo(f"updated {shown}: cites {', '.join(sorted(added))} added")


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
