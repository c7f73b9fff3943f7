"""The survey's framework and the facet vocabularies, read from `taxonomy/` and checked as a whole."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kb import yamlfile
from kb.errors import ValidationFailed
from kb.facets import (
    RESERVED,
    Declaration,
    Description,
    Facet,
    Model,
    Name,
    Names,
    Registry,
    Term,
    Terms,
    did_you_mean,
    name_key,
)
from kb.problem import Problem, format_field

__all__ = ["Area", "Taxonomy", "did_you_mean", "load_taxonomy", "name_key"]

AREA_ID = r"^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)*$"
RELATION = "relation"  # the vocabulary under `terms:` in facets.yaml that types lineage edges


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Area(_Strict):
    id: str = Field(pattern=AREA_ID, max_length=80)
    name: Name
    parent: str | None
    description: Description = Field(min_length=10, max_length=600)


@dataclass
class Taxonomy:
    areas: dict[str, Area]
    registry: Registry
    relations: dict[str, Term]
    _children: dict[str | None, list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for area in self.areas.values():
            self._children.setdefault(area.parent, []).append(area.id)

    def facet(self, key: str) -> Facet:
        return self.registry[key]

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

    def check_relation(self, relation: str) -> str:
        if relation not in self.relations:
            raise ValueError(f"unknown relation '{relation}'{did_you_mean(relation, self.relations)}")
        return relation


# -- loading ------------------------------------------------------------------------------------

AREAS_FILE = "areas.yaml"
FACETS_FILE = "facets.yaml"


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

    def items(
        doc: yamlfile.Document | None, name: str, kind: type[BaseModel], loc: tuple[str | int, ...] = ()
    ) -> Iterator[tuple[tuple[str | int, ...], BaseModel]]:
        if doc is None:
            return
        data = doc.data
        for key in loc:
            data = data.get(key) if isinstance(data, dict) else None
        if not isinstance(data, list):
            problems.append(
                Problem(
                    shown(directory / name), doc.line_of(loc), format_field(loc) or None, "expected a list of entries"
                )
            )
            return
        for i, raw in enumerate(data):
            try:
                yield (*loc, i), kind.model_validate(raw)
            except ValidationError as exc:
                for err in exc.errors():
                    where = (*loc, i, *err["loc"])
                    problems.append(
                        Problem(shown(directory / name), doc.line_of(where), format_field(where), err["msg"])
                    )

    areas: dict[str, Area] = {}
    areas_doc = read(AREAS_FILE)
    for loc, area in items(areas_doc, AREAS_FILE, Area):
        assert isinstance(area, Area) and areas_doc is not None
        if area.id in areas:
            problems.append(
                Problem(
                    shown(directory / AREAS_FILE),
                    areas_doc.line_of(loc),
                    format_field(loc) + ".id",
                    f"duplicate area id '{area.id}'",
                )
            )
        areas[area.id] = area
    if areas_doc is not None:
        problems.extend(_area_structure_problems(areas, areas_doc, shown(directory / AREAS_FILE)))

    facets_doc = read(FACETS_FILE)
    facets_shown = shown(directory / FACETS_FILE)
    vocabularies: dict[str, dict[str, Term]] = {}
    lists = facets_doc.data.get("terms") if facets_doc is not None and isinstance(facets_doc.data, dict) else None
    if facets_doc is not None and not isinstance(lists, dict):
        problems.append(
            Problem(
                facets_shown,
                facets_doc.line_of(("terms",)),
                "terms",
                "expected a mapping of vocabulary names to lists of terms",
            )
        )
    for name in lists if isinstance(lists, dict) else ():
        vocabularies[str(name)] = _terms(
            items(facets_doc, FACETS_FILE, Term, ("terms", name)), facets_doc, facets_shown, problems
        )
    if facets_doc is not None and isinstance(lists, dict) and RELATION not in lists:
        problems.append(
            Problem(
                facets_shown,
                facets_doc.line_of(("terms",)),
                "terms",
                f"the '{RELATION}' vocabulary (types of lineage edges) is missing",
            )
        )

    files: dict[str, Terms | Names] = {}

    def vocabulary_file(name: str, kind: str, where: tuple[str | int, ...]) -> Terms | Names | None:
        if name in files:
            return files[name]
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*\.yaml", name) or name in (AREAS_FILE, FACETS_FILE):
            problems.append(
                Problem(
                    facets_shown,
                    facets_doc.line_of(where) if facets_doc else None,
                    format_field(where),
                    f"'{name}' is not a vocabulary file name (a .yaml file in taxonomy/)",
                )
            )
            return None
        doc = read(name)
        if kind == "terms":
            files[name] = Terms(_terms(items(doc, name, Term), doc, shown(directory / name), problems))
        else:
            files[name] = Names(_models(items(doc, name, Model), doc, shown(directory / name), problems), name)
        return files[name]

    declared: list[Facet] = []
    fields: dict[str, str] = {}
    for loc, declaration in items(facets_doc, FACETS_FILE, Declaration, ("facets",)):
        assert isinstance(declaration, Declaration) and facets_doc is not None
        line = facets_doc.line_of(loc)
        where = format_field(loc)
        if declaration.key in (f.key for f in declared):
            problems.append(Problem(facets_shown, line, where + ".key", f"facet '{declaration.key}' is declared twice"))
            continue
        if declaration.field in RESERVED or declaration.field in fields:
            owner = "a record field" if declaration.field in RESERVED else f"facet '{fields[declaration.field]}'"
            problems.append(Problem(facets_shown, line, where + ".field", f"'{declaration.field}' is already {owner}"))
            continue
        if (declaration.terms is None) == (declaration.names is None):
            problems.append(
                Problem(
                    facets_shown, line, where, "give exactly one vocabulary: terms (a list or a file) or names (a file)"
                )
            )
            continue
        vocabulary: Terms | Names | None
        if declaration.names is not None:
            vocabulary = vocabulary_file(declaration.names, "names", (*loc, "names"))
        elif declaration.terms is not None and declaration.terms.endswith(".yaml"):
            vocabulary = vocabulary_file(declaration.terms, "terms", (*loc, "terms"))
        elif declaration.terms in vocabularies:
            vocabulary = Terms(vocabularies[declaration.terms])
        else:
            problems.append(
                Problem(
                    facets_shown,
                    facets_doc.line_of((*loc, "terms")),
                    where + ".terms",
                    f"no vocabulary '{declaration.terms}' under"
                    f" terms:{did_you_mean(str(declaration.terms), vocabularies)}",
                )
            )
            continue
        if vocabulary is None:
            continue
        if declaration.in_text == "aliases" and not isinstance(vocabulary, Names):
            problems.append(
                Problem(facets_shown, line, where + ".in_text", "in_text: aliases needs a names vocabulary")
            )
            continue
        fields[declaration.field] = declaration.key
        declared.append(
            Facet(
                declaration.key,
                declaration.field,
                declaration.label,
                declaration.many,
                declaration.required,
                declaration.max,
                declaration.in_text,
                vocabulary,
            )
        )

    if problems:
        raise ValidationFailed(problems)
    return Taxonomy(areas=areas, registry=Registry(tuple(declared)), relations=vocabularies[RELATION])


def _models(
    entries: Iterator[tuple[tuple[str | int, ...], BaseModel]],
    doc: yamlfile.Document | None,
    shown: str,
    problems: list[Problem],
) -> dict[str, Model]:
    models: dict[str, Model] = {}
    seen_keys: dict[str, str] = {}
    for loc, model in entries:
        assert isinstance(model, Model) and doc is not None
        for spelling in (model.name, *model.aliases):
            owner = seen_keys.setdefault(name_key(spelling), model.name)
            if owner != model.name or (spelling == model.name and model.name in models):
                problems.append(
                    Problem(shown, doc.line_of(loc), format_field(loc), f"'{spelling}' already names '{owner}'")
                )
        models[model.name] = model
    return models


def _terms(
    entries: Iterator[tuple[tuple[str | int, ...], BaseModel]],
    doc: yamlfile.Document | None,
    shown: str,
    problems: list[Problem],
) -> dict[str, Term]:
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
            yield Problem(
                shown,
                line,
                f"[{index[area.id]}].parent",
                f"parent '{area.parent}' of '{area.id}' is not an area{did_you_mean(area.parent, areas)}",
            )
            continue
        if area.parent is not None and not area.id.startswith(area.parent + "."):
            yield Problem(
                shown,
                line,
                f"[{index[area.id]}].id",
                f"id '{area.id}' must start with its parent's id '{area.parent}.'",
            )
        seen = {area.id}
        parent = area.parent
        while parent is not None and parent in areas:
            if parent in seen:
                yield Problem(shown, line, f"[{index[area.id]}].parent", f"cycle through '{area.id}'")
                break
            seen.add(parent)
            parent = areas[parent].parent
