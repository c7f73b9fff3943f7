"""The paper record: the one validation boundary. Everything downstream takes `Record`s and trusts them.

Checks that need the taxonomy read it from the validation context (`context={"taxonomy": ...}`);
checks that need other records (citations resolve, duplicate titles) live in `kb.loader`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from kb import identifier, text
from kb.taxonomy import Taxonomy

# A draft written by `kb add` carries this marker where a person must write; validation refuses it.
PLACEHOLDER = "TODO"
FIRST_YEAR = 1950
IMPLEMENTATION = re.compile(r"^kb\.xai(\.[a-z_][a-z0-9_]*)+:[A-Za-z_][A-Za-z0-9_]*$")
DOI = re.compile(r"^10\.\d{4,9}/\S{1,200}$")


def _taxonomy(info: ValidationInfo) -> Taxonomy:
    taxonomy = (info.context or {}).get("taxonomy")
    if taxonomy is None:
        raise RuntimeError("records are validated with context={'taxonomy': Taxonomy}")
    return taxonomy  # type: ignore[no-any-return]


# Every string of a record passes one of these (kb.text): no control, separator, bidi or zero-width
# character, so what a reviewer reads is what the site shows and what the duplicate check compares.
_plain_text = text.multi_line
_one_line = text.one_line


def _no_placeholder(value: str) -> str:
    if PLACEHOLDER in value:
        raise ValueError(f"still holds the {PLACEHOLDER} placeholder of a draft; write it in your own words")
    return value


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/$.?#][^\s<>\"']*$", value, flags=re.I):
        raise ValueError(f"'{value}' is not an http(s) link")
    return value


def _area(value: str, info: ValidationInfo) -> str:
    return _taxonomy(info).check_leaf(value)


def _relation(value: str, info: ValidationInfo) -> str:
    return _taxonomy(info).check_relation(_one_line(value))


def _facet_value(key: str) -> AfterValidator:
    return AfterValidator(lambda value, info: _taxonomy(info).facet(key).check(_one_line(value)))


def _paper_id(value: str) -> str:
    return identifier.check(value)


def _arxiv_id(value: str) -> str:
    if not identifier.is_arxiv(value):
        raise ValueError(f"'{value}' is not an arXiv id (like 2311.16922 or hep-th/9901001)")
    return identifier.check(value)


def _doi(value: str) -> str:
    if not DOI.match(value):
        raise ValueError(f"'{value}' is not a DOI (10.xxxx/...)")
    return value


OneLine = Annotated[str, Field(min_length=1), AfterValidator(_one_line)]
Title = Annotated[str, Field(min_length=3, max_length=400), AfterValidator(_one_line)]
Author = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_one_line)]
HttpLink = Annotated[str, Field(max_length=2000), AfterValidator(_one_line), AfterValidator(_http_url)]
PaperId = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(_one_line), AfterValidator(_paper_id)]
ArxivId = Annotated[str, AfterValidator(_one_line), AfterValidator(_arxiv_id)]
Doi = Annotated[str, AfterValidator(_one_line), AfterValidator(_doi)]
AreaId = Annotated[str, AfterValidator(_one_line), AfterValidator(_area)]
Summary = Annotated[
    str, Field(min_length=80, max_length=1500), AfterValidator(_plain_text), AfterValidator(_no_placeholder)
]
Finding = Annotated[
    str, Field(min_length=15, max_length=400), AfterValidator(_one_line), AfterValidator(_no_placeholder)
]
Note = Annotated[str, Field(max_length=300), AfterValidator(_one_line)]
CuratorsNote = Annotated[
    str, Field(min_length=20, max_length=600), AfterValidator(_plain_text), AfterValidator(_no_placeholder)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Links(_Strict):
    arxiv: ArxivId | None = None
    code: HttpLink | None = None
    project: HttpLink | None = None
    doi: Doi | None = None


class Lineage(_Strict):
    """A curated lineage edge: this paper extends, adapts, evaluates on, compares with, analyses or uses `id`."""

    id: PaperId
    relation: Annotated[str, AfterValidator(_relation)]
    note: Note | None = None


def _unique(values: list[Any], what: str) -> list[Any]:
    seen: set[Any] = set()
    for value in values:
        key = value.id if isinstance(value, Lineage) else value
        if key in seen:
            raise ValueError(f"{what} '{key}' is listed twice")
        seen.add(key)
    return values


class Record(_Strict):
    """One paper: the fields every record has. The facet fields (granularity, modalities, ...) are declared in
    taxonomy/facets.yaml; `record_model(taxonomy)` makes the full model, and `values(key)` reads a facet."""

    facet_fields: ClassVar[dict[str, str]] = {}  # facet key -> record field, set on each generated model

    id: PaperId = Field(description="arXiv id without version (2311.16922, hep-th/9901001) or a lowercase slug")
    title: Title = Field(description="The current title, copied exactly")
    aliases: list[Title] = Field(
        default_factory=list, max_length=10, description="Earlier titles, so searches for them find the paper"
    )
    authors: list[Author] = Field(
        default_factory=list, max_length=3000, description="Full names in order; empty when unknown"
    )
    year: int = Field(description="Year of first posting")
    published: dt.date | None = Field(default=None, description="Date of first posting when known")
    venue: Annotated[str, Field(max_length=200), AfterValidator(_one_line)] | None = Field(
        default=None, description="Only where a source states it"
    )
    links: Links = Field(default_factory=Links)
    sources: list[HttpLink] = Field(
        default_factory=list, max_length=20, description="Public pages the facts were read from"
    )
    taxonomy: list[AreaId] = Field(min_length=1, max_length=6, description="One or more leaf areas of the taxonomy")
    summary: Summary = Field(description="2-4 sentences in our own words saying only what the paper's abstract says")
    findings: list[Finding] = Field(
        min_length=1, max_length=5, description="Short claims of the abstract, in our own words"
    )
    curators_note: CuratorsNote | None = Field(
        default=None,
        description="Optional: the curators' view (why the paper matters for explainability); shown labelled as ours",
    )
    cites: list[PaperId] = Field(
        default_factory=list, max_length=500, description="Verified bibliographic citations inside the corpus"
    )
    builds_on: list[Lineage] = Field(
        default_factory=list, max_length=50, description="Curated lineage inside the corpus"
    )
    implementation: Annotated[str, Field(pattern=IMPLEMENTATION.pattern)] | None = Field(
        default=None, description="Reference implementation, module:attribute under kb.xai"
    )
    added: dt.date | None = Field(
        default=None,
        description=(
            "Date the record entered the knowledge base (set by `kb add` and `kb watch`; else the site reads it from"
            " git history)"
        ),
    )

    @field_validator("year")
    @classmethod
    def _plausible_year(cls, year: int) -> int:
        last = dt.date.today().year + 1
        if not FIRST_YEAR <= year <= last:
            raise ValueError(f"{year} is not a plausible year ({FIRST_YEAR}-{last})")
        return year

    # Authors may repeat: two people can share a name on one paper.
    @field_validator("taxonomy", "cites")
    @classmethod
    def _no_repeats(cls, values: list[str], info: ValidationInfo) -> list[str]:
        return _unique(values, str(info.field_name).rstrip("s").replace("_", " "))

    @field_validator("builds_on")
    @classmethod
    def _no_repeated_edges(cls, values: list[Lineage]) -> list[Lineage]:
        return _unique(values, "builds_on id")

    @model_validator(mode="after")
    def _consistent(self) -> Record:
        month = identifier.arxiv_month(self.id)
        if month is not None:
            if self.year < month[0]:
                raise _field_error("year", f"{self.year} is before the arXiv id's month {month[0]}-{month[1]:02d}")
            if self.links.arxiv is not None and self.links.arxiv != self.id:
                raise _field_error("links.arxiv", f"'{self.links.arxiv}' differs from the record id '{self.id}'")
            # A paper submitted in the last days of a month can be announced under the next month's id.
            earliest = dt.date(month[0], month[1], 1) - dt.timedelta(days=7)
            if self.published is not None and self.published < earliest:
                raise _field_error(
                    "published", f"{self.published} is before the arXiv id's month {month[0]}-{month[1]:02d}"
                )
        if self.added is not None:
            # One day of slack: a draft written late in the evening in one time zone is dated tomorrow in another.
            if self.added > dt.date.today() + dt.timedelta(days=1):
                raise _field_error("added", f"{self.added} is in the future")
            if self.published is not None and self.added < self.published:
                raise _field_error("added", f"{self.added} is before the paper was first posted ({self.published})")
        if self.id in self.cites or any(edge.id == self.id for edge in self.builds_on):
            raise _field_error(
                "cites" if self.id in self.cites else "builds_on", "a paper cannot cite or build on itself"
            )
        return self

    def values(self, facet: str) -> tuple[str, ...]:
        """The record's values of a facet (by key), as a tuple whether the facet holds one value or many."""
        value = getattr(self, type(self).facet_fields[facet])
        if value is None:
            return ()
        return tuple(value) if isinstance(value, list) else (value,)

    @property
    def arxiv_id(self) -> str | None:
        return self.links.arxiv or (self.id if identifier.is_arxiv(self.id) else None)

    @property
    def arxiv_url(self) -> str | None:
        return f"https://arxiv.org/abs/{self.arxiv_id}" if self.arxiv_id else None

    def to_data(self) -> dict[str, Any]:
        """Plain data in the order of a written record (facets after `taxonomy`), leaving out empty optional
        values, ready to write as YAML."""
        dumped = self.model_dump(mode="json", exclude_none=True)
        dumped["links"] = {k: v for k, v in dumped["links"].items() if v is not None}
        facets = list(type(self).facet_fields.values())
        order = [*BEFORE_FACETS, *facets, *(f for f in Record.model_fields if f not in BEFORE_FACETS)]
        data = {key: dumped[key] for key in order if key in dumped}
        for key, value in list(data.items()):
            if value in ([], {}) and key not in REQUIRED_LISTS:
                data.pop(key)
        return data


# A written record lists these fields, then its facets, then the rest.
BEFORE_FACETS = ("id", "title", "aliases", "authors", "year", "published", "venue", "links", "sources", "taxonomy")
REQUIRED_LISTS = ("taxonomy", "findings")


def record_model(taxonomy: Taxonomy) -> type[Record]:
    """The record model for this taxonomy's facets: `Record` plus one field per declared facet.

    Models are made once per facet signature and kept as attributes of this module, so records pickle (the
    loader's worker processes send them back) and two loads of the same taxonomy share one class."""
    signature = taxonomy.registry.signature()
    name = "Record_" + hashlib.sha256(repr(signature).encode()).hexdigest()[:12]
    existing = globals().get(name)
    if isinstance(existing, type) and issubclass(existing, Record):
        return existing
    fields: dict[str, Any] = {}
    for facet in taxonomy.registry:
        value = Annotated[str, Field(min_length=1, max_length=120), _facet_value(facet.key)]
        description = (
            f"{facet.label}: {'one or more values' if facet.many else 'one value'} from the {facet.key} vocabulary"
        )
        if facet.many:
            unique = AfterValidator(lambda values, key=facet.key: _unique(values, key.replace("_", " ")))
            field: Any = Field(
                default_factory=list,
                min_length=1 if facet.required else 0,
                max_length=facet.max,
                description=description,
            )
            fields[facet.field] = (Annotated[list[value], unique], field)
        elif facet.required:
            fields[facet.field] = (value, Field(description=description))
        else:
            fields[facet.field] = (value | None, Field(default=None, description=description))
    model = create_model(name, __base__=Record, __module__=__name__, **fields)
    model.facet_fields = {f.key: f.field for f in taxonomy.registry}
    globals()[name] = model
    return model


class FieldError(ValueError):
    """A cross-field error that names the field it is about, so the loader can point at its line."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _field_error(field: str, message: str) -> ValueError:
    return FieldError(field, message)


def normalised_title(title: str) -> str:
    """The key under which two titles count as the same paper: case, compatibility forms (a fullwidth letter),
    punctuation and spacing ignored."""
    return re.sub(r"[^0-9a-z]+", " ", text.comparable(title)).strip()


def validate(data: Any, taxonomy: Taxonomy) -> Record:
    return record_model(taxonomy).model_validate(data, context={"taxonomy": taxonomy})


def json_schema(taxonomy: Taxonomy) -> dict[str, Any]:
    """The JSON Schema of a record file, with the vocabularies as enums so editors can complete them.

    Checks that a schema cannot express (model aliases, citations that resolve) happen in `kb validate`.
    """
    from kb.facets import Terms

    model = record_model(taxonomy)
    schema = model.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "MLLM explainability paper record"
    facets = list(model.facet_fields.values())
    order = [*BEFORE_FACETS, *facets, *(f for f in Record.model_fields if f not in BEFORE_FACETS)]
    schema["properties"] = props = {name: schema["properties"][name] for name in order}
    props["taxonomy"]["items"]["enum"] = taxonomy.leaves()
    for facet in taxonomy.registry:
        if not isinstance(facet.vocabulary, Terms):
            continue  # names with aliases: any spelling of an alias is accepted, so no enum
        target = props[facet.field]["items"] if facet.many else props[facet.field]
        if "anyOf" in target:  # an optional single value: the string branch gets the enum
            target = next(branch for branch in target["anyOf"] if branch.get("type") == "string")
        target["enum"] = facet.values()
    schema["$defs"]["Lineage"]["properties"]["relation"]["enum"] = list(taxonomy.relations)
    return schema
