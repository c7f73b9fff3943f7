"""The triage file: papers that were read and judged out of scope, each with a one-line reason.

It is the memory of curation: `kb discover` and `kb watch` skip these papers, so no paper is triaged
twice, and a contributor can see why a paper is absent. `kb validate` checks it like a record file:
every entry is an arXiv id, the paper's title and a reason; no id is listed twice or is also a record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from kb import yamlfile
from kb.problem import Problem, format_field
from kb.records import ArxivId, Record, Title, _one_line, normalised_title

Reason = Annotated[str, Field(min_length=3, max_length=160), AfterValidator(_one_line)]


class Exclusion(BaseModel):
    """One paper judged out of scope."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: ArxivId
    title: Title
    reason: Reason


@dataclass(frozen=True)
class Triage:
    """The excluded papers by id (empty when the knowledge base has no triage file)."""

    excluded: Mapping[str, Exclusion]

    def __contains__(self, paper_id: object) -> bool:
        return paper_id in self.excluded

    def __len__(self) -> int:
        return len(self.excluded)


def read(
    path: Path, shown: str, records: Mapping[str, Record], normalised_titles: Mapping[str, str]
) -> tuple[Triage, list[Problem]]:
    """The triage file's entries and every problem in it; a missing file is an empty triage."""
    if not path.exists():
        return Triage({}), []
    problems: list[Problem] = []
    try:
        doc = yamlfile.load(path, max_bytes=16 * 1024 * 1024)
    except yamlfile.DocumentError as exc:
        return Triage({}), [Problem(shown, exc.line, exc.field, exc.message)]
    if doc.data is None:
        return Triage({}), []
    if not isinstance(doc.data, list):
        return Triage({}), [Problem(shown, 1, None, "the triage file must be a list of {id, title, reason} entries")]
    excluded: dict[str, Exclusion] = {}
    for i, raw in enumerate(doc.data):
        try:
            entry = Exclusion.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                loc = (i, *err["loc"])
                message = _message(err["type"], str(err["loc"][-1]), err["msg"])
                problems.append(Problem(shown, doc.line_of(loc), format_field(loc), message))
            continue
        line = doc.line_of((i, "id"))
        if entry.id in excluded:
            problems.append(Problem(shown, line, f"[{i}].id", f"'{entry.id}' is listed twice"))
        elif entry.id in records:
            problems.append(
                Problem(shown, line, f"[{i}].id", f"'{entry.id}' is a record in papers/ and cannot also be excluded")
            )
        elif (owner := normalised_titles.get(normalised_title(entry.title))) is not None:
            problems.append(
                Problem(shown, doc.line_of((i, "title")), f"[{i}].title", f"same title as record '{owner}'")
            )
        excluded[entry.id] = entry
    return Triage(excluded), problems


def _message(kind: str, name: str, message: str) -> str:
    """The same wording as record problems: unknown and missing fields are named as such."""
    if kind == "extra_forbidden":
        return f"unknown field '{name}' (an entry has id, title and reason)"
    if kind == "missing":
        return "required field is missing"
    return message.removeprefix("Value error, ")
