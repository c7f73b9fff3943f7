"""What a search document is: the words a researcher might find a paper by, and what filters look at."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # a cold query reads documents back from the index and never needs pydantic
    from kb.records import Record
    from kb.taxonomy import Taxonomy


def document_text(record: Record, taxonomy: Taxonomy) -> str:
    """Everything a researcher might search a paper by, in words: our summary and findings, the names of
    its areas and of its facet values (with the descriptions of method families and the aliases of models),
    not only the title."""
    parts = [record.title, *record.aliases, record.summary, *record.findings]
    parts += [taxonomy.path_name(a).replace(" › ", ", ") for a in record.taxonomy]
    for facet in taxonomy.registry:
        for value in record.values(facet.key):
            parts.append(facet.describe(value))
    return "\n".join(parts)


@dataclass(frozen=True)
class Document:
    """One record as search sees it; kept in the index so a query never reads the records."""

    id: str
    title: str
    year: int
    areas: tuple[str, ...]
    text: str
    facets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()

    @classmethod
    def of(cls, record: Record, taxonomy: Taxonomy) -> Document:
        facets = {f.key: record.values(f.key) for f in taxonomy.registry}
        return cls(
            record.id,
            record.title,
            record.year,
            tuple(record.taxonomy),
            document_text(record, taxonomy),
            facets,
            tuple(record.aliases),
            tuple(record.authors),
        )

    def to_data(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "year": self.year,
            "areas": list(self.areas),
            "text": self.text,
            "facets": {k: list(v) for k, v in self.facets.items()},
            "aliases": list(self.aliases),
            "authors": list(self.authors),
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Document:
        return cls(
            str(data["id"]),
            str(data["title"]),
            int(data["year"]),
            tuple(data["areas"]),
            str(data["text"]),
            {k: tuple(v) for k, v in data["facets"].items()},
            tuple(data["aliases"]),
            tuple(data["authors"]),
        )
