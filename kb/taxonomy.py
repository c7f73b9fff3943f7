"""The survey's framework and the facet vocabularies, read from `taxonomy/` and checked as a whole."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from kb import text, yamlfile
from kb.errors import ValidationFailed
from kb.problem import Problem, format_field

TERM_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"
AREA_ID = r"^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)*$"
FACETS = ("granularity", "modality", "contribution", "relation")


# Names reach the site's navigation, tabs, chips and legends: they obey the same text rules as a record's
# title (one visible line; kb.text), and every page escapes them.
Name = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(text.one_line)]
Description = Annotated[str, AfterValidator(text.multi_line)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Area(_Strict):
    id: str = Field(pattern=AREA_ID, max_length=80)
    name: Name
    parent: str | None
    description: Description = Field(min_length=10, max_length=600)


class Term(_Strict):
    id: str = Field(pattern=TERM_ID, max_length=60)
    name: Name
    description: Description = Field(min_length=5, max_length=400)


class Model(_Strict):
    name: Name
    aliases: list[Name] = Field(default_factory=list, max_length=50)


def model_key(name: str) -> str:
    """Spelling-insensitive key: 'llava-1.5', 'LLaVA 1.5' and 'LLaVA_1.5' all become 'llava15'."""
    return re.sub(r"[\s\-_.]+", "", name.casefold())


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass
class Taxonomy:
    areas: dict[str, Area]
    facets: dict[str, dict[str, Term]]
    method_families: dict[str, Term]
    models: dict[str, Model]
    _model_keys: dict[str, str] = field(default_factory=dict, repr=False)
    _children: dict[str | None, list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for model in self.models.values():
            for spelling in (model.name, *model.aliases):
                self._model_keys.setdefault(model_key(spelling), model.name)
        for area in self.areas.values():
            self._children.setdefault(area.parent, []).append(area.id)

    # -- areas -------------------------------------------------------------------------------
    def children(self, area_id: str | None) -> list[str]:
        return list(self._children.get(area_id, []))

    def roots(self) -> list[str]:
        return self.children(None)

    def is_leaf(self, area_id: str) -> bool:
        return area_id in self.areas and not self._children.get(area_id)

    def leaves(self) -> list[str]:
        return [a for a in self.areas if self.is_leaf(a)]

    def descendants(self, area_id: str) -> list[str]:
        """The area itself and everything below it, in document order."""
        out = [area_id]
        for child in self.children(area_id):
            out.extend(self.descendants(child))
        return out

    def ancestors(self, area_id: str) -> list[str]:
        out: list[str] = []
        parent = self.areas[area_id].parent
        while parent is not None:
            out.append(parent)
            parent = self.areas[parent].parent
        return out

    def perspective(self, area_id: str) -> str:
        chain = [area_id, *self.ancestors(area_id)]
        return chain[-1]

    def path_name(self, area_id: str) -> str:
        chain = [area_id, *self.ancestors(area_id)]
        return " › ".join(self.areas[a].name for a in reversed(chain))

    # -- checks used by record validation -------------------------------------------------------
    def check_leaf(self, area_id: str) -> str:
        if area_id not in self.areas:
            raise ValueError(f"unknown area '{area_id}'{did_you_mean(area_id, self.areas)}")
        if not self.is_leaf(area_id):
            raise ValueError(f"'{area_id}' is not a leaf area; use one of: {', '.join(self.leaves_below(area_id))}")
        return area_id

    def leaves_below(self, area_id: str) -> list[str]:
        return [a for a in self.descendants(area_id) if self.is_leaf(a)]

    def check_term(self, facet: str, term: str) -> str:
        vocabulary = self.method_families if facet == "method_family" else self.facets[facet]
        if term not in vocabulary:
            raise ValueError(f"unknown {facet.replace('_', ' ')} '{term}'{did_you_mean(term, vocabulary)}")
        return term

    def canonical_model(self, name: str) -> str:
        canonical = self._model_keys.get(model_key(name))
        if canonical is None:
            hint = did_you_mean(name, [m for m in self.models])
            raise ValueError(f"unknown model '{name}'{hint}; add it to taxonomy/models.yaml")
        return canonical


# -- loading ------------------------------------------------------------------------------------

AREAS_FILE = "areas.yaml"
FACETS_FILE = "facets.yaml"
FAMILIES_FILE = "method-families.yaml"
MODELS_FILE = "models.yaml"


def load_taxonomy(directory: Path, display_root: Path | None = None) -> Taxonomy:
    """Read and check the taxonomy folder; raise ValidationFailed with every problem found."""
    problems: list[Problem] = []
    base = display_root or directory.parent

    def shown(path: Path) -> str:
        try:
            return str(path.relative_to(base))
        except ValueError:
            return str(path)

    def read(name: str) -> yamlfile.Document | None:
        path = directory / name
        if not path.exists():
            problems.append(Problem(shown(path), None, None, "file is missing"))
            return None
        try:
            return yamlfile.load(path, max_bytes=4 * 1024 * 1024)
        except yamlfile.DocumentError as exc:
            problems.append(Problem(shown(path), exc.line, exc.field, exc.message))
            return None

    def items(doc: yamlfile.Document | None, name: str, kind: type[_Strict], loc: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], _Strict]]:
        if doc is None:
            return
        data = doc.data
        for key in loc:
            data = data.get(key) if isinstance(data, dict) else None
        if not isinstance(data, list):
            problems.append(Problem(shown(directory / name), doc.line_of(loc), format_field(loc) or None, "expected a list of entries"))
            return
        for i, raw in enumerate(data):
            try:
                yield (*loc, i), kind.model_validate(raw)
            except ValidationError as exc:
                for err in exc.errors():
                    where = (*loc, i, *err["loc"])
                    problems.append(Problem(shown(directory / name), doc.line_of(where), format_field(where), err["msg"]))

    areas: dict[str, Area] = {}
    areas_doc = read(AREAS_FILE)
    for loc, area in items(areas_doc, AREAS_FILE, Area):
        assert isinstance(area, Area) and areas_doc is not None
        if area.id in areas:
            problems.append(Problem(shown(directory / AREAS_FILE), areas_doc.line_of(loc), format_field(loc) + ".id", f"duplicate area id '{area.id}'"))
        areas[area.id] = area
    if areas_doc is not None:
        problems.extend(_area_structure_problems(areas, areas_doc, shown(directory / AREAS_FILE)))

    facets: dict[str, dict[str, Term]] = {}
    facets_doc = read(FACETS_FILE)
    for facet in FACETS:
        facets[facet] = _terms(items(facets_doc, FACETS_FILE, Term, (facet,)), facets_doc, shown(directory / FACETS_FILE), problems)
    families_doc = read(FAMILIES_FILE)
    families = _terms(items(families_doc, FAMILIES_FILE, Term), families_doc, shown(directory / FAMILIES_FILE), problems)

    models: dict[str, Model] = {}
    seen_keys: dict[str, str] = {}
    models_doc = read(MODELS_FILE)
    for loc, model in items(models_doc, MODELS_FILE, Model):
        assert isinstance(model, Model) and models_doc is not None
        for spelling in (model.name, *model.aliases):
            key = model_key(spelling)
            owner = seen_keys.setdefault(key, model.name)
            if owner != model.name or (spelling == model.name and model.name in models):
                problems.append(Problem(shown(directory / MODELS_FILE), models_doc.line_of(loc), format_field(loc), f"'{spelling}' already names model '{owner}'"))
        models[model.name] = model

    if problems:
        raise ValidationFailed(problems)
    return Taxonomy(areas=areas, facets=facets, method_families=families, models=models)


def _terms(entries: Iterator[tuple[tuple[str | int, ...], _Strict]], doc: yamlfile.Document | None, shown: str, problems: list[Problem]) -> dict[str, Term]:
    out: dict[str, Term] = {}
    for loc, term in entries:
        assert isinstance(term, Term) and doc is not None
        if term.id in out:
            problems.append(Problem(shown, doc.line_of(loc), format_field(loc) + ".id", f"duplicate term '{term.id}'"))
        out[term.id] = term
    return out


def _area_structure_problems(areas: dict[str, Area], doc: yamlfile.Document, shown: str) -> Iterator[Problem]:
    index = {area_id: i for i, area_id in enumerate(areas)}
    for area in areas.values():
        line = doc.line_of((index[area.id], "parent"))
        if area.parent is not None and area.parent not in areas:
            yield Problem(shown, line, f"[{index[area.id]}].parent", f"parent '{area.parent}' of '{area.id}' is not an area{did_you_mean(area.parent, areas)}")
            continue
        if area.parent is not None and not area.id.startswith(area.parent + "."):
            yield Problem(shown, line, f"[{index[area.id]}].id", f"id '{area.id}' must start with its parent's id '{area.parent}.'")
        seen = {area.id}
        parent = area.parent
        while parent is not None and parent in areas:
            if parent in seen:
                yield Problem(shown, line, f"[{index[area.id]}].parent", f"cycle through '{area.id}'")
                break
            seen.add(parent)
            parent = areas[parent].parent
