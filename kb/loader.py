"""Read the taxonomy and every record file into a KnowledgeBase, collecting all problems on the way."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from kb import identifier, triage, yamlfile
from kb.errors import ValidationFailed
from kb.knowledge_base import KnowledgeBase
from kb.parse_cache import ParseCache
from kb.problem import Problem, format_field
from kb.project import Project
from kb.records import FieldError, Record, normalised_title, record_model, validate
from kb.taxonomy import Taxonomy, did_you_mean, load_taxonomy

# Reading and validating files is CPU-bound and independent per file: past this many files the work is
# spread over worker processes (each reads the taxonomy once). Below it, process start-up costs more.
PARALLEL_FROM = 2000


def load(
    project: Project,
    only: Sequence[Path] | None = None,
    workers: int | None = None,
    *,
    with_triage: bool = False,
    parse_cache: Path | None = None,
) -> KnowledgeBase:
    """Load and check everything. With `only`, report just the problems of those files (and of the
    taxonomy), still checking their citations against the whole knowledge base. `with_triage` also reads
    and checks the triage file (curation/excluded.yaml, thousands of entries): `kb validate` and discovery
    want it, the commands that only build from the records do not pay for it. `parse_cache` is a file
    that keeps the files' parsed YAML for the next load (`kb.parse_cache`): the site build passes
    `Artefacts.parsed_records`, as it writes build/ anyway; a command that only reads (or checks a
    checkout) writes nothing there."""
    taxonomy = load_taxonomy(project.taxonomy_dir, display_root=project.root)
    problems: list[Problem] = []
    paths = record_paths(project, only or (), problems)
    loaded: list[tuple[Path, Record]] = []
    cache = ParseCache(parse_cache)
    for path, record, found in _read_all(project, taxonomy, paths, workers, cache):
        problems.extend(found)
        if record is not None:
            loaded.append((path, record))
    cache.save()
    # A reference to a file that exists but failed validation is not reported again as unresolved.
    stems = {path.stem for path in paths}
    records, files, titles = _cross_check(project, loaded, problems, stems)
    triage_shown = project.shown(project.triage_path)
    excluded = triage.Triage({})
    if with_triage:
        excluded, found = triage.read(project.triage_path, triage_shown, records, titles)
        problems.extend(found)
    if only is not None:
        wanted = {project.shown(p) for p in only}
        problems = [p for p in problems if p.path in wanted or p.path.startswith("taxonomy/") or p.path == triage_shown]
    if problems:
        raise ValidationFailed(problems)
    return KnowledgeBase(taxonomy=taxonomy, records=records, files=files, triage=excluded)


def _read_all(
    project: Project, taxonomy: Taxonomy, paths: list[Path], workers: int | None, cache: ParseCache
) -> Iterator[tuple[Path, Record | None, list[Problem]]]:
    """Every file read and validated, in order. Files the cache has never seen are parsed by worker
    processes when there are many of them (a first build); the others are validated here, parsed again
    only if their bytes changed."""
    count = workers if workers is not None else (os.cpu_count() or 1)
    unseen = [path for path in paths if not cache.knows(project.shown(path))]
    if count <= 1 or len(unseen) < PARALLEL_FROM:
        for path in paths:
            _, record, found = read_record(path, taxonomy, project.shown(path), cache)
            yield path, record, found
        return
    record_model(taxonomy)  # workers send records of this generated class back: it must exist here to unpickle them
    size = -(-len(unseen) // count)
    chunks = [unseen[i : i + size] for i in range(0, len(unseen), size)]
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    done: dict[Path, tuple[Record | None, list[Problem]]] = {}
    with ProcessPoolExecutor(count, mp_context=context, initializer=_init_worker, initargs=(project,)) as pool:
        for results, parsed in pool.map(_read_chunk, chunks):
            cache.merge(parsed)
            done.update((path, (record, found)) for path, record, found in results)
    for path in paths:
        record, found = done.get(path) or read_record(path, taxonomy, project.shown(path), cache)[1:]
        yield path, record, found


_worker: tuple[Project, Taxonomy] | None = None


def _init_worker(project: Project) -> None:
    global _worker  # noqa: PLW0603 - per-process state of a worker, set once by its initializer
    _worker = (project, load_taxonomy(project.taxonomy_dir, display_root=project.root))


def _read_chunk(paths: list[Path]) -> tuple[list[tuple[Path, Record | None, list[Problem]]], ParseCache]:
    """Records and problems of these files, and what was parsed, for the parent's cache."""
    assert _worker is not None
    project, taxonomy = _worker
    parsed = ParseCache(None)
    out = []
    for path in paths:
        _, record, found = read_record(path, taxonomy, project.shown(path), parsed)
        out.append((path, record, found))
    return out, parsed


def record_paths(project: Project, extra: Iterable[Path], problems: list[Problem]) -> list[Path]:
    """Every `.yaml` entry of papers/ plus the paths given, in order, without following their links.

    Whatever an entry is (a link, a FIFO, a directory named x.yaml) it is listed here and refused with a
    problem by `yamlfile.read_bytes`, so one hostile entry never stops the other records being checked.
    """
    paths: dict[Path, None] = {}
    papers = project.papers_dir.resolve()
    if papers.is_dir():
        for path in sorted(papers.iterdir()):
            if path.suffix == ".yaml":
                paths[path] = None
            elif path.suffix == ".yml":
                problems.append(Problem(project.shown(path), None, None, "record files end in .yaml, not .yml"))
    taxonomy = project.taxonomy_dir.resolve()
    triage_file = project.triage_path.absolute().parent.resolve() / project.triage_path.name
    for path in extra:
        try:
            # The folder is resolved, never the file itself: a link must be seen as a link.
            where = path.absolute().parent.resolve() / path.name
        except (OSError, RuntimeError):
            problems.append(Problem(str(path), None, None, "its folder cannot be resolved (a symbolic link loop?)"))
            continue
        if where.is_relative_to(taxonomy) or where == triage_file:
            continue  # the taxonomy and the triage file are always checked, as what they are, never as records
        if not os.path.lexists(where):
            problems.append(Problem(project.shown(path), None, None, "no such file"))
        elif where.is_dir() and not where.is_symlink():
            paths.update((p, None) for p in sorted(where.glob("*.yaml")))
        else:
            paths[where] = None
    return list(paths)


def read_record(
    path: Path, taxonomy: Taxonomy, shown: str, cache: ParseCache | None = None
) -> tuple[yamlfile.Document | None, Record | None, list[Problem]]:
    """Parse and validate one file on its own. Used by the loader and by tools that check a single draft.

    With a cache, a file parsed before from the same bytes is not parsed again, and then no document is
    returned (its line numbers are only worked out, by parsing, when there is a problem to place)."""
    try:
        raw = yamlfile.read_bytes(path)
        data = cache.get(shown, raw) if cache is not None else None
        doc = None if data is not None else yamlfile.parse(yamlfile.decode(raw))
    except yamlfile.DocumentError as exc:
        return None, None, [Problem(shown, exc.line, exc.field, exc.message)]
    if doc is not None:
        if not isinstance(doc.data, dict):
            kind = "a list" if isinstance(doc.data, list) else f"a single {type(doc.data).__name__} value"
            return doc, None, [Problem(shown, 1, None, f"the top level must be a mapping of fields, found {kind}")]
        data = doc.data
        if cache is not None:
            cache.put(shown, raw, data)
    assert data is not None
    try:
        record = validate(data, taxonomy)
    except ValidationError as exc:
        doc = doc or yamlfile.parse(yamlfile.decode(raw))
        return doc, None, _problems_from(exc, doc, shown, tuple(record_model(taxonomy).model_fields))
    expected = identifier.file_stem(record.id)
    if path.stem != expected:
        doc = doc or yamlfile.parse(yamlfile.decode(raw))
        message = f"file name must be '{expected}.yaml' to match the id '{record.id}'"
        return doc, None, [Problem(shown, doc.line_of(("id",)), "id", message)]
    return doc, record, []


def _problems_from(exc: ValidationError, doc: yamlfile.Document, shown: str, fields: tuple[str, ...]) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc: tuple[str | int, ...] = tuple(err["loc"])
        message = _message(err, fields)
        error = (err.get("ctx") or {}).get("error")
        if isinstance(error, FieldError):
            loc = tuple(error.field.split("."))
        out.append(Problem(shown, doc.line_of(loc), format_field(loc) or None, message))
    return out


def _message(err: ErrorDetails, record_fields: tuple[str, ...]) -> str:
    kind = err["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        name = str(err["loc"][-1])
        fields = record_fields if len(err["loc"]) == 1 else ()
        hint = did_you_mean(name, fields) if fields else ""
        return f"unknown field '{name}'{hint}"
    message = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in (
        "string_type",
        "int_type",
        "list_type",
        "dict_type",
        "model_type",
        "date_from_datetime_parsing",
        "date_parsing",
        "int_parsing",
    ):
        message += f", got {_shown_input(err['input'])}"
    return message


def _shown_input(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _line(path: Path, loc: tuple[str | int, ...]) -> int | None:
    """A value's line, read again from the file: only needed when a cross-record problem is reported."""
    try:
        return yamlfile.load(path).line_of(loc)
    except (OSError, yamlfile.DocumentError):
        return None


def _cross_check(
    project: Project, loaded: list[tuple[Path, Record]], problems: list[Problem], stems: set[str]
) -> tuple[dict[str, Record], dict[str, Path], dict[str, str]]:
    records: dict[str, Record] = {}
    files: dict[str, Path] = {}
    titles: dict[str, str] = {}
    for path, record in loaded:
        shown = project.shown(path)
        if record.id in records:
            problems.append(
                Problem(
                    shown,
                    _line(path, ("id",)),
                    "id",
                    f"duplicate id '{record.id}', also in {project.shown(files[record.id])}",
                )
            )
            continue
        for loc, title in [(("title",), record.title), *((("aliases", i), t) for i, t in enumerate(record.aliases))]:
            key = normalised_title(title)
            owner = titles.setdefault(key, record.id)
            if owner != record.id:
                problems.append(
                    Problem(
                        shown,
                        _line(path, loc),
                        format_field(loc),
                        f"same title as record '{owner}' ({project.shown(files[owner])})",
                    )
                )
        records[record.id] = record
        files[record.id] = path
    for path, record in loaded:
        if files.get(record.id) != path:
            continue
        shown = project.shown(path)
        for i, cited in enumerate(record.cites):
            if cited not in records and identifier.file_stem(cited) not in stems:
                problems.append(
                    Problem(
                        shown,
                        _line(path, ("cites", i)),
                        f"cites[{i}]",
                        f"'{cited}' is not a record in papers/{did_you_mean(cited, records)}",
                    )
                )
        for i, edge in enumerate(record.builds_on):
            if edge.id not in records and identifier.file_stem(edge.id) not in stems:
                problems.append(
                    Problem(
                        shown,
                        _line(path, ("builds_on", i, "id")),
                        f"builds_on[{i}].id",
                        f"'{edge.id}' is not a record in papers/{did_you_mean(edge.id, records)}",
                    )
                )
    return records, files, titles


def load_valid(project: Project) -> tuple[KnowledgeBase, list[Path]]:
    """The valid records and the triage file, leaving out files that do not validate on their own (drafts
    waiting for review, a broken neighbour): tools that add or update records must still run beside them.
    Returns the knowledge base and the record files left out. Taxonomy problems still raise."""
    taxonomy = load_taxonomy(project.taxonomy_dir, display_root=project.root)
    records: dict[str, Record] = {}
    files: dict[str, Path] = {}
    skipped: list[Path] = []
    titles: dict[str, str] = {}
    for path in record_paths(project, (), []):
        _, record, problems = read_record(path, taxonomy, project.shown(path))
        if record is None or problems or record.id in records:
            skipped.append(path)
            continue
        records[record.id] = record
        files[record.id] = path
        titles.setdefault(normalised_title(record.title), record.id)
    excluded, _ = triage.read(project.triage_path, project.shown(project.triage_path), records, titles)
    return KnowledgeBase(taxonomy=taxonomy, records=records, files=files, triage=excluded), skipped
