"""The facet registry: every facet of a record, declared once in `taxonomy/facets.yaml`.

A `Facet` is a declaration (key, record field, label, one or many values, required, at most how many) bound
to its vocabulary: `Terms` (closed ids with names and descriptions) or `Names` (canonical names with
aliases, matched ignoring case, spaces, hyphens, dots and underscores). Everything that knows about facets
asks the registry: the record model (`kb.records.record_model`), validation messages, the database rows,
the `kb list` and `kb search` options, `kb stats`, the search documents, and the site's filters, chips,
tag pages and browser search. Nothing else names a facet.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from kb import text

FACET_KEY = r"^[a-z][a-z0-9_]{0,39}$"
# The fields every record has; a facet may not take one of these names (kb.records checks the two agree).
RESERVED = frozenset(
    {
        "id",
        "title",
        "aliases",
        "authors",
        "year",
        "published",
        "venue",
        "links",
        "sources",
        "taxonomy",
        "summary",
        "findings",
        "curators_note",
        "cites",
        "builds_on",
        "implementation",
        "added",
    }
)
InText = Literal["key", "description", "aliases"]


# Names reach the site's navigation, tabs, chips and legends: they obey the same text rules as a record's
# title (one visible line; kb.text), and every page escapes them.
Name = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(text.one_line)]
Description = Annotated[str, AfterValidator(text.multi_line)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Term(_Strict):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=60)
    name: Name
    description: Description = Field(min_length=5, max_length=400)


class Model(_Strict):
    name: Name
    aliases: list[Name] = Field(default_factory=list, max_length=50)


class Declaration(_Strict):
    """One entry of `facets:` in facets.yaml, as a contributor writes it."""

    key: str = Field(pattern=FACET_KEY)
    field: str = Field(pattern=FACET_KEY)
    label: Name
    many: bool
    required: bool = False
    terms: str | None = Field(default=None, max_length=80)
    names: str | None = Field(default=None, max_length=80)
    in_text: InText = "key"
    max: int = Field(default=10, ge=1, le=200)


def name_key(name: str) -> str:
    """Spelling-insensitive key: 'llava-1.5', 'LLaVA 1.5' and 'LLaVA_1.5' all become 'llava15'."""
    return re.sub(r"[\s\-_.]+", "", name.casefold())


def did_you_mean(value: str, choices: object) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)  # type: ignore[call-overload]
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass(frozen=True)
class Terms:
    """A closed vocabulary: a value is one of the term ids."""

    terms: Mapping[str, Term]

    def check(self, value: str, label: str) -> str:
        if value not in self.terms:
            raise ValueError(f"unknown {label.casefold()} '{value}'{did_you_mean(value, self.terms)}")
        return value

    def name(self, value: str) -> str:
        return self.terms[value].name

    def description(self, value: str) -> str:
        return self.terms[value].description

    def values(self) -> list[str]:
        return list(self.terms)


@dataclass(frozen=True)
class Names:
    """Canonical names with aliases: any spelling of an alias is stored as the canonical name."""

    models: Mapping[str, Model]
    source: str
    _keys: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for model in self.models.values():
            for spelling in (model.name, *model.aliases):
                self._keys.setdefault(name_key(spelling), model.name)

    def check(self, value: str, label: str) -> str:
        canonical = self._keys.get(name_key(value))
        if canonical is None:
            raise ValueError(
                f"unknown {label.casefold()} '{value}'{did_you_mean(value, self.models)}; "
                f"add it to taxonomy/{self.source}"
            )
        return canonical

    def name(self, value: str) -> str:
        return value

    def description(self, value: str) -> str:
        model = self.models.get(value)
        return ", ".join(model.aliases) if model and model.aliases else ""

    def values(self) -> list[str]:
        return list(self.models)

    def canonical(self, value: str) -> str | None:
        return self._keys.get(name_key(value))


Vocabulary = Terms | Names


@dataclass(frozen=True)
class Facet:
    """A declared facet bound to its vocabulary."""

    key: str
    field: str
    label: str
    many: bool
    required: bool
    max: int
    in_text: InText
    vocabulary: Vocabulary

    @property
    def option(self) -> str:
        """The command-line option: --method-family for method_family."""
        return "--" + self.key.replace("_", "-")

    def check(self, value: str) -> str:
        """The stored form of `value`, or ValueError naming the facet and a close match."""
        return self.vocabulary.check(value, self.label)

    def name(self, value: str) -> str:
        return self.vocabulary.name(value)

    def values(self) -> list[str]:
        """Every value of the vocabulary, in declaration order."""
        return self.vocabulary.values()

    def describe(self, value: str) -> str:
        """How a value of this facet is written into a paper's searchable text."""
        if self.in_text == "description":
            return f"{self.name(value)}: {self.vocabulary.description(value)}"
        if self.in_text == "aliases":
            return " ".join(part for part in (value, self.vocabulary.description(value).replace(",", "")) if part)
        return f"{self.name(value)} {self.key.replace('_', ' ')}"

    def resolve(self, value: str) -> str:
        """A value as typed on a command line or in a URL: an id, a name or an alias, any case."""
        try:
            return self.check(value)
        except ValueError:
            by_name = {self.name(v).casefold(): v for v in self.values()}
            if value.casefold() in by_name:
                return by_name[value.casefold()]
            raise


@dataclass(frozen=True)
class Registry:
    """The facets in declaration order."""

    facets: tuple[Facet, ...]

    def __iter__(self) -> Iterator[Facet]:
        return iter(self.facets)

    def __len__(self) -> int:
        return len(self.facets)

    def __getitem__(self, key: str) -> Facet:
        for facet in self.facets:
            if facet.key == key:
                return facet
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return any(f.key == key for f in self.facets)

    def keys(self) -> list[str]:
        return [f.key for f in self.facets]

    def by_field(self, name: str) -> Facet | None:
        return next((f for f in self.facets if f.field == name), None)

    def signature(self) -> tuple[tuple[str, str, bool, bool, int], ...]:
        """What the record model depends on (not the vocabularies, which validation reads at run time)."""
        return tuple((f.key, f.field, f.many, f.required, f.max) for f in self.facets)
