"""The relational form of the knowledge base (sqlmodel), built only from validated records.

SQLite in `build/kb.sqlite` is the embedded default and is replaced atomically; any SQLAlchemy URL
(PostgreSQL, say) works through KB_DATABASE_URL, rebuilt inside one transaction.

The live SQLite file is never written in place: a rebuild, and even a new source stamp after files were
merely touched, goes to a copy that replaces it in one rename. So a reading command (`kb list`,
`kb show`) never changes the database another process is reading, and a full or read-only disk costs
it nothing when the database is already current.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, insert
from sqlmodel import Field, Session, SQLModel, col, func, select

from kb import atomic
from kb.errors import WriteFailed
from kb.knowledge_base import KnowledgeBase, record_hash
from kb.project import Project, source_stamp
from kb.records import Record

SCHEMA_VERSION = "2"


class Paper(SQLModel, table=True):
    id: str = Field(primary_key=True)
    title: str
    year: int = Field(index=True)
    published: dt.date | None = None
    venue: str | None = None
    summary: str
    arxiv: str | None = None
    code: str | None = None
    project: str | None = None
    doi: str | None = None
    implementation: str | None = None
    file: str
    content_hash: str
    record_json: str


class Author(SQLModel, table=True):
    paper_id: str = Field(primary_key=True, foreign_key="paper.id")
    position: int = Field(primary_key=True)
    name: str = Field(index=True)


class Alias(SQLModel, table=True):
    paper_id: str = Field(primary_key=True, foreign_key="paper.id")
    position: int = Field(primary_key=True)
    title: str


class Finding(SQLModel, table=True):
    paper_id: str = Field(primary_key=True, foreign_key="paper.id")
    position: int = Field(primary_key=True)
    text: str


class TaxonomyNode(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str
    parent: str | None = Field(default=None, foreign_key="taxonomynode.id")
    perspective: str
    description: str
    position: int


class Label(SQLModel, table=True):
    paper_id: str = Field(primary_key=True, foreign_key="paper.id")
    area_id: str = Field(primary_key=True, foreign_key="taxonomynode.id", index=True)


class Facet(SQLModel, table=True):
    """A paper's value of a declared facet (taxonomy/facets.yaml), one row each; `facet` is the facet's key."""

    paper_id: str = Field(primary_key=True, foreign_key="paper.id")
    facet: str = Field(primary_key=True)
    value: str = Field(primary_key=True, index=True)


class Edge(SQLModel, table=True):
    """A citation (kind 'cites') or a curated lineage edge (kind 'builds_on', with its relation)."""

    source: str = Field(primary_key=True, foreign_key="paper.id")
    target: str = Field(primary_key=True, foreign_key="paper.id", index=True)
    kind: str = Field(primary_key=True)
    relation: str | None = None
    note: str | None = None


class Meta(SQLModel, table=True):
    key: str = Field(primary_key=True)
    value: str


@dataclass(frozen=True)
class BuildResult:
    changed: bool
    papers: int
    target: str


def make_engine(url: str) -> Engine:
    engine = create_engine(url)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA foreign_keys=ON"))
    return engine


Row = tuple[type[SQLModel], Mapping[str, object]]


def rows(kb: KnowledgeBase, project: Project) -> Iterator[Row]:
    """Every row of the database as (table, column values), in an order that satisfies the foreign keys.

    Plain dicts rather than model objects: constructing 100,000 SQLModel instances took most of a 5,000-paper
    build (~35 us each), and the bulk insert wants dicts anyway. Every row of a table names every column, as
    executemany needs (the SQL dump of the real corpus was identical before and after the change).
    """
    taxonomy = kb.taxonomy
    for position, area in enumerate(taxonomy.areas.values()):
        yield (
            TaxonomyNode,
            {
                "id": area.id,
                "name": area.name,
                "parent": area.parent,
                "perspective": taxonomy.perspective(area.id),
                "description": area.description,
                "position": position,
            },
        )
    for record in kb:
        yield Paper, _paper(record, project.shown(kb.files[record.id]) if record.id in kb.files else "")
    for record in kb:
        paper = record.id
        yield from ((Author, {"paper_id": paper, "position": i, "name": n}) for i, n in enumerate(record.authors))
        yield from ((Alias, {"paper_id": paper, "position": i, "title": t}) for i, t in enumerate(record.aliases))
        yield from ((Finding, {"paper_id": paper, "position": i, "text": t}) for i, t in enumerate(record.findings))
        yield from ((Label, {"paper_id": paper, "area_id": a}) for a in record.taxonomy)
        for facet in taxonomy.registry:
            yield from ((Facet, {"paper_id": paper, "facet": facet.key, "value": v}) for v in record.values(facet.key))
        edge = {"source": paper, "relation": None, "note": None}
        yield from ((Edge, {**edge, "target": t, "kind": "cites"}) for t in record.cites)
        yield from (
            (Edge, {**edge, "target": e.id, "kind": "builds_on", "relation": e.relation, "note": e.note})
            for e in record.builds_on
        )


def _paper(record: Record, file: str) -> dict[str, object]:
    return {
        "id": record.id,
        "title": record.title,
        "year": record.year,
        "published": record.published,
        "venue": record.venue,
        "summary": record.summary,
        "arxiv": record.arxiv_id,
        "code": record.links.code,
        "project": record.links.project,
        "doi": record.links.doi,
        "implementation": record.implementation,
        "file": file,
        "content_hash": record_hash(record),
        "record_json": json.dumps(record.to_data(), ensure_ascii=False),
    }


def read_meta(url: str) -> dict[str, str]:
    """The build's metadata, or {} when there is no readable database at `url`."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return {}
    try:
        engine = make_engine(url)
        with Session(engine) as session:
            return {m.key: m.value for m in session.exec(select(Meta))}
    except Exception:  # noqa: BLE001 - a missing or unreadable database simply means "rebuild"
        return {}


def is_current(project: Project) -> bool:
    """True when the database was built from exactly the files on disk now (names, sizes, times)."""
    meta = read_meta(project.database_url)
    return meta.get("source_stamp") == source_stamp(project) and meta.get("schema_version") == SCHEMA_VERSION


def build(kb: KnowledgeBase, project: Project, force: bool = False) -> BuildResult:
    """Write the database unless its fingerprint already matches the records."""
    url = project.database_url
    fingerprint = kb.fingerprint()
    stamp = source_stamp(project)  # one stat of every input file, not one per use
    meta = read_meta(url)
    if not force and meta.get("fingerprint") == fingerprint and meta.get("schema_version") == SCHEMA_VERSION:
        if meta.get("source_stamp") != stamp:
            _restamp(url, stamp)
        return BuildResult(changed=False, papers=len(kb), target=url)
    values = {
        "fingerprint": fingerprint,
        "schema_version": SCHEMA_VERSION,
        "source_stamp": stamp,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        atomic.clean_leftovers(path.parent)  # what killed builds left behind (temporary copies, journals)
        try:
            with atomic.replacing(path) as temp, _disk_errors(path):
                _fill(make_engine(f"sqlite:///{temp}"), kb, project, values)
        except WriteFailed as failed:  # name the file as the user knows it
            raise WriteFailed(project.shown(path), OSError(failed.errno, failed.message)) from failed
    else:
        _fill(make_engine(url), kb, project, values)
    return BuildResult(changed=True, papers=len(kb), target=url)


@contextmanager
def _disk_errors(path: Path) -> Iterator[None]:
    """SQLite reports a full or read-only disk as an OperationalError: make it the WriteFailed it is."""
    try:
        yield
    except exc.OperationalError as error:
        text = str(error.orig).lower()
        known = (
            ("disk is full", errno.ENOSPC),
            ("readonly database", errno.EROFS),
            ("disk i/o error", errno.EIO),
            ("unable to open", errno.EACCES),
        )
        for words, code in known:
            if words in text:
                raise WriteFailed(path, OSError(code, str(error.orig))) from error
        raise


def _restamp(url: str, stamp: str) -> None:
    """Record that the files on disk now are the ones the database was built from (only their times
    changed). An optimisation for the next command, so a failure to write it is not an error."""
    if not url.startswith("sqlite:///"):
        _write_meta(make_engine(url), {"source_stamp": stamp})
        return
    path = Path(url.removeprefix("sqlite:///"))
    try:
        with atomic.replacing(path) as temp:
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            target = sqlite3.connect(temp)
            try:
                source.backup(target)
                target.execute("UPDATE meta SET value = ? WHERE key = 'source_stamp'", (stamp,))
                target.commit()
            finally:
                source.close()
                target.close()
    except (OSError, WriteFailed, sqlite3.Error):
        return


INSERT_CHUNK = 5000


def _fill(engine: Engine, kb: KnowledgeBase, project: Project, meta: dict[str, str]) -> None:
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    # Rows are kept as plain dicts, not model objects: for 5,000 papers the objects alone took ~150 MiB.
    by_model: dict[type[SQLModel], list[Mapping[str, object]]] = {}
    for model, values in rows(kb, project):
        by_model.setdefault(model, []).append(values)
    order = {table.name: i for i, table in enumerate(SQLModel.metadata.sorted_tables)}
    with Session(engine) as session:
        # Bulk inserts, parents before children: the ORM unit of work is ~10x slower for 10,000 papers
        # and, without relationships, would not order inserts by foreign key.
        for model in sorted(by_model, key=lambda m: order[m.__tablename__]):  # type: ignore[index]
            data = by_model.pop(model)
            for start in range(0, len(data), INSERT_CHUNK):
                session.execute(insert(model), data[start : start + INSERT_CHUNK])
            del data
        session.execute(insert(Meta), [{"key": k, "value": v} for k, v in meta.items()])
        session.commit()
    engine.dispose()


def _write_meta(engine: Engine, values: dict[str, str]) -> None:
    with Session(engine) as session:
        for key, value in values.items():
            session.merge(Meta(key=key, value=value))
        session.commit()
    engine.dispose()


# -- queries ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    area: str | None = None
    years: tuple[int | None, int | None] = (None, None)
    facets: Mapping[str, str] = field(default_factory=dict)  # facet key -> value (already in stored form)


def list_papers(engine: Engine, query: Query, area_ids: list[str] | None = None) -> list[Paper]:
    """Papers matching every given filter, newest first. `area_ids` is the area with its descendants."""
    statement = select(Paper)
    if area_ids is not None:
        statement = statement.where(col(Paper.id).in_(select(Label.paper_id).where(col(Label.area_id).in_(area_ids))))
    low, high = query.years
    if low is not None:
        statement = statement.where(Paper.year >= low)
    if high is not None:
        statement = statement.where(Paper.year <= high)
    for facet, value in query.facets.items():
        statement = statement.where(
            col(Paper.id).in_(select(Facet.paper_id).where(Facet.facet == facet, Facet.value == value))
        )
    statement = statement.order_by(col(Paper.year).desc(), col(Paper.id))
    with Session(engine) as session:
        return list(session.exec(statement))


def facets_of(engine: Engine, paper_ids: list[str]) -> dict[str, dict[str, list[str]]]:
    """paper id -> facet key -> values, for the given papers."""
    out: dict[str, dict[str, list[str]]] = {pid: {} for pid in paper_ids}
    with Session(engine) as session:
        for row in session.exec(select(Facet).where(col(Facet.paper_id).in_(paper_ids))):
            out[row.paper_id].setdefault(row.facet, []).append(row.value)
    return out


def get_paper(engine: Engine, paper_id: str) -> dict[str, Any] | None:
    with Session(engine) as session:
        paper = session.get(Paper, paper_id)
        if paper is None:
            return None
        data: dict[str, Any] = json.loads(paper.record_json)
        data["cited_by"] = list(session.exec(select(Edge.source).where(Edge.target == paper_id, Edge.kind == "cites")))
        data["built_on_by"] = list(
            session.exec(select(Edge.source).where(Edge.target == paper_id, Edge.kind == "builds_on"))
        )
        return data


def count_rows(engine: Engine, table: type[SQLModel]) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def ensure_built(project: Project, kb: KnowledgeBase | None = None) -> Engine:
    """An engine on a database that agrees with the records, rebuilding it first when they changed.
    A caller that has already loaded the records passes them, so they are not read twice."""
    from kb.loader import load

    if not is_current(project):
        build(kb if kb is not None else load(project), project)
    return make_engine(project.database_url)
