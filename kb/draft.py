"""A draft record built from arXiv's facts and the suggested classification, written for a person to finish.

The facts (id, title, authors, dates, links) are filled exactly. The classification is only a
suggestion: every suggested field carries a `# REVIEW` comment with its scores and the vocabulary to
choose from. The summary and findings hold `records.PLACEHOLDER`, which `kb validate` refuses, so a
draft nobody reviewed cannot be merged.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kb import yamlfile
from kb.arxiv_api import ArxivPaper
from kb.facets import Facet, Names
from kb.records import DOI, PLACEHOLDER, Record
from kb.taxonomy import Taxonomy

SUMMARY_PLACEHOLDER = (
    f"{PLACEHOLDER}: write 2-4 sentences in your own words: what the paper does and why it matters for "
    "explaining multimodal models. Do not copy the abstract."
)
FINDING_PLACEHOLDER = f"{PLACEHOLDER}: one short claim the paper supports, in your own words."
REVIEW = "# REVIEW"
# How many suggestions a draft proposes per field: enough to be useful, few enough to prune quickly.
LIMITS = {"taxonomy": 3, "granularity": 3, "modalities": 3, "method_family": 3, "models_studied": 10}
MAX_VENUE = 200
# Models voted for by similar records are weak evidence of what a paper studies; names found in its
# title or abstract score 1.0 in `kb.search.suggest`.
MIN_MODEL_SCORE = 0.5

Scored = list[tuple[str, float]]


@dataclass(frozen=True)
class Proposal:
    """Suggested values with scores, best first; the shape of `kb.search.suggest.Suggestion`, kept apart from it
    so a draft can be written when suggestions are unavailable."""

    areas: Scored = field(default_factory=list)
    facets: dict[str, Scored] = field(default_factory=dict)

    @classmethod
    def of(cls, suggestion: Any) -> Proposal:
        facets = {name: [(str(v), float(s)) for v, s in values] for name, values in dict(suggestion.facets).items()}
        return cls(areas=[(str(a), float(s)) for a, s in suggestion.areas], facets=facets)


def facts(paper: ArxivPaper) -> dict[str, Any]:
    """The fields a draft takes from arXiv, in record order."""
    data: dict[str, Any] = {
        "id": paper.id,
        "title": paper.title,
        "authors": list(paper.authors),
        "year": paper.published.year,
        "published": paper.published,
    }
    if paper.journal_ref and len(paper.journal_ref) <= MAX_VENUE:
        data["venue"] = paper.journal_ref
    links: dict[str, str] = {"arxiv": paper.id}
    if paper.doi and DOI.match(paper.doi):
        links["doi"] = paper.doi
    data["links"] = links
    data["sources"] = [paper.url]
    return data


def _pick(scored: Scored, limit: int) -> Scored:
    """The best value, plus the others scoring at least half as well, up to `limit`."""
    if not scored:
        return []
    ranked = sorted(scored, key=lambda item: -item[1])
    top = ranked[0][1]
    return [item for i, item in enumerate(ranked) if i == 0 or item[1] >= top / 2][:limit]


def _block(key: str, value: Any) -> str:
    return yamlfile.dump({key: value})


def _scored_list(key: str, picked: Scored, note: str, choices: Sequence[str]) -> str:
    if not picked and "suggested" in note:
        note = note.split("suggested", maxsplit=1)[0] + "nothing suggested; fill in what applies."
    lines = [f"{REVIEW}: {note}", *_choices_comment(choices)]
    if not picked:
        lines.append(f"{key}: []")
        return "\n".join(lines) + "\n"
    dumped = _block(key, [value for value, _ in picked]).splitlines()
    lines.append(dumped[0])
    lines += [f"{line}  # {score:.2f}" for line, (_, score) in zip(dumped[1:], picked, strict=True)]
    return "\n".join(lines) + "\n"


def _choices_comment(choices: Sequence[str]) -> list[str]:
    text = "choose from: " + ", ".join(choices)
    return ["#   " + line for line in textwrap.wrap(text, width=96, break_on_hyphens=False)]


def render(paper: ArxivPaper, taxonomy: Taxonomy, proposal: Proposal | None, today: dt.date | None = None) -> str:
    """The text of `papers/<id>.yaml` for a new draft."""
    today = today or dt.date.today()
    data = facts(paper)
    version = f" ({paper.id}{paper.version})" if paper.version else ""
    parts = [
        (
            f"# Draft written by `kb add` from arXiv{version} on {today.isoformat()}.\n"
            f"# The facts below come from arXiv: keep them. Check each {REVIEW} line, replace every {PLACEHOLDER},\n"
            f"# then run `kb validate papers/{_file_name(paper.id)}`. Read the paper at {paper.url}\n"
        ),
    ]
    for key in ("id", "title", "authors", "year", "published"):
        parts.append(_block(key, data[key]))
    if "venue" in data:
        parts.append(
            f"{REVIEW}: arXiv's journal reference; shorten it to the venue and year (e.g. CVPR 2024) or delete it.\n"
        )
        parts.append(_block("venue", data["venue"]))
    parts.append(_block("links", data["links"]))
    parts.append(_block("sources", data["sources"]))

    proposal = proposal or Proposal()
    note = (
        "suggested by `kb suggest` (scores after #); keep what fits, add what is missing."
        if proposal.areas or proposal.facets
        else "no suggestion was made; fill this in."
    )
    parts.append(
        _scored_list(
            "taxonomy", _pick(proposal.areas, LIMITS["taxonomy"]), f"1-6 leaf areas, {note}", taxonomy.leaves()
        )
    )
    for facet in taxonomy.registry:
        parts.append(_facet_block(facet, proposal.facets.get(facet.key, []), note))
    parts.append(
        f"# Your own words, never the abstract's. {PLACEHOLDER} marks what `kb validate` refuses until written.\n"
    )
    parts.append(_block("summary", SUMMARY_PLACEHOLDER))
    parts.append(_block("findings", [FINDING_PLACEHOLDER]))
    parts.append(
        "# Run `kb refs " + paper.id + "` to fill `cites` from Semantic Scholar where it knows the references.\n"
    )
    # The day the paper entered the knowledge base: the site's feeds and What's-new page read it.
    parts.append(_block("added", today.isoformat()))
    return "".join(parts)


def _facet_block(facet: Facet, scored: Scored, note: str) -> str:
    """A facet's lines in a draft: what `kb suggest` proposed, marked for review, with the choices."""
    if isinstance(facet.vocabulary, Names):
        # Names voted for by similar records are weak evidence; names found in the text score 1.0.
        picked = _pick([m for m in scored if m[1] >= MIN_MODEL_SCORE], LIMITS.get(facet.field, facet.max))
        choices = [f"any name or alias in taxonomy/{facet.vocabulary.source}"]
        return _scored_list(facet.field, picked, f"{facet.label.casefold()} of the paper, {note}", choices)
    if facet.many:
        limit = LIMITS.get(facet.field, facet.max)
        return _scored_list(facet.field, _pick(scored, limit), note, facet.values())
    lines = [f"{REVIEW}: exactly one, {note}\n"] + [line + "\n" for line in _choices_comment(facet.values())]
    best = _pick(scored, 1)
    if best:
        value, score = best[0]
        return "".join(lines) + _block(facet.field, value).rstrip("\n") + f"  # {score:.2f}\n"
    return "".join(lines) + (_block(facet.field, PLACEHOLDER) if facet.required else f"{facet.field}: null\n")


def _file_name(paper_id: str) -> str:
    from kb.identifier import file_stem

    return file_stem(paper_id) + ".yaml"


def refreshed(existing: dict[str, Any], paper: ArxivPaper) -> dict[str, Any]:
    """A reviewed record with arXiv's current facts; everything a person wrote is kept.

    A changed title keeps the old one as an alias so searches for it still find the paper; a venue or
    DOI already in the record is never replaced by arXiv's.
    """
    new = facts(paper)
    data = dict(existing)
    old_title = data.get("title")
    if isinstance(old_title, str) and old_title.strip() and old_title.strip() != new["title"]:
        aliases = [a for a in data.get("aliases") or [] if a != new["title"]]
        if old_title.strip() not in aliases:
            aliases.append(old_title.strip())
        data["aliases"] = aliases
    for key in ("title", "authors", "year", "published"):
        data[key] = new[key]
    if "venue" in new and not data.get("venue"):
        data["venue"] = new["venue"]
    links = dict(data.get("links") or {})
    links["arxiv"] = paper.id
    if "doi" in new["links"] and not links.get("doi"):
        links["doi"] = new["links"]["doi"]
    data["links"] = links
    sources = list(data.get("sources") or [])
    if paper.url not in sources:
        sources.append(paper.url)
    data["sources"] = sources
    order = {name: i for i, name in enumerate(Record.model_fields)}
    return dict(sorted(data.items(), key=lambda item: order.get(item[0], len(order))))


def is_draft(text: str) -> bool:
    """Whether a record file is still an unreviewed draft (its summary or a finding holds the placeholder)."""
    try:
        data = yamlfile.parse(text).data
    except yamlfile.DocumentError:
        return False
    if not isinstance(data, dict):
        return False
    findings: list[Any] = data["findings"] if isinstance(data.get("findings"), list) else []
    return any(isinstance(v, str) and PLACEHOLDER in v for v in [data.get("summary"), *findings])


def check_round_trip(text: str, paper: ArxivPaper) -> None:
    """The written text must read back, through the loader's own YAML reader, to exactly arXiv's facts."""
    data = yamlfile.parse(text).data
    expected = facts(paper)
    for key in ("id", "title", "authors", "year"):
        if data.get(key) != expected[key]:
            raise AssertionError(
                f"draft for {paper.id}: '{key}' reads back as {data.get(key)!r}, not {expected[key]!r}"
            )
    if str(data.get("published")) != expected["published"].isoformat():
        raise AssertionError(f"draft for {paper.id}: 'published' reads back as {data.get('published')!r}")
