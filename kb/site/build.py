"""`kb site build` and `kb site serve`: database, search assets, xai results, Markdown, then mkdocs.

The mkdocs configuration is the project's `mkdocs.yml`; the generated area tree replaces its
`Browse` nav entry. Paper pages stay out of the nav (mkdocs-material's cost grows with the nav).

Two builds at once, a kill at any moment, a full disk: the site is always whole. A build holds an
exclusive lock on `build/.site.lock` for its whole run (the second waits: `.site-src/` and the database
are shared), writes into a folder of its own (`build/site.<pid>.<random>/`), and publishes it by
replacing the symbolic link `build/site` in one rename. Leftovers of killed builds are moved aside when the
next one starts (and old sites once a new one is published) and removed by a detached process; a failed build
removes its own folder and leaves the published site as it was.

A forked child embeds new or changed texts while the pages that need no search index are made, then builds
the database, which the site does not read (`kb.site.background`); the site is published only once the
database is built too.
"""

from __future__ import annotations

import errno
import html
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb import atomic, lock
from kb.artefacts import Artefacts
from kb.errors import KbError, WriteFailed
from kb.knowledge_base import KnowledgeBase
from kb.project import Project, source_stamp
from kb.site.background import Background
from kb.site.context import area_doc
from kb.site.generate import DOCS_DIR, Generated, generate
from kb.site.shell import Published, reusing

CONFIG = "mkdocs.yml"
BROWSE = "Browse"


@dataclass
class BuildReport:
    generated: Generated
    site_dir: Path
    seconds: float
    papers: int


def site_dir(project: Project) -> Path:
    return project.build_dir / "site"


def build(project: Project, *, xai: bool = True, strict: bool = True) -> BuildReport:
    started = time.perf_counter()
    with lock.held(_lock_path(project)):
        clean_leftovers(project)
        from kb.loader import load

        kb = load(project, parse_cache=Artefacts(project).parsed_records)
        target = site_dir(project)
        staging = target.with_name(f"{target.name}.{os.getpid()}.{secrets.token_hex(4)}")
        with _background(project, kb) as background:
            generated = generate(project, kb, xai=xai, before_index=lambda: _embedded(background))
            clock = time.perf_counter()
            try:
                config = _config(project, kb, site_dir=staging, strict=strict)
                previous = _read_published(project, target.resolve()) if _published(target) else None
                with reusing(previous, generated.keys, _read_spare(project)) as reuse:
                    _mkdocs_build(config)
                background.wait(DATABASE)
                publish(staging, target)
                if previous is not None:
                    _keep_spare(project, previous)
                _write_published(project, Published(staging, generated.keys, reuse.shells or {}))
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
                    raise WriteFailed(project.shown(target), exc) from exc
                raise
            finally:
                if staging.exists() and _published(target) != staging.name:
                    shutil.rmtree(staging, ignore_errors=True)
        clean_leftovers(project)
    generated.timings["mkdocs"] = round(time.perf_counter() - clock, 3)
    return BuildReport(generated, target, time.perf_counter() - started, len(kb))


def _lock_path(project: Project) -> Path:
    return project.build_dir / ".site.lock"


def _published_path(project: Project) -> Path:
    return project.build_dir / ".site-published.json"


def _read_published(project: Project, site: Path) -> Published:
    """What the published site `site` was made from (`kb.site.shell.Published`), or just its folder when the
    record kept beside it names another folder or cannot be read: then no page is trusted by its key."""
    found = _read_record(_published_path(project), site)
    return found[1] if found is not None and found[0] == site.name else Published(site, {}, {})


def _write_published(project: Project, published: Published) -> None:
    """Written after the site is published: a build killed between the two leaves a record that names the
    older folder, which the next build ignores."""
    data = {"site": published.site.name, "keys": published.keys, "shells": published.shells}
    atomic.write_bytes(_published_path(project), json.dumps(data, separators=(",", ":")).encode())


# The site published before the current one is kept here, with what it was made from, for the next build to
# take its page folders over (`kb.site.shell.reusing`). Its name does not start with "site.": clean_leftovers
# leaves it alone.
SPARE = "site-spare"
SPARE_RECORD = ".kb-spare.json"


def _read_spare(project: Project) -> Published | None:
    folder = project.build_dir / SPARE
    found = _read_record(folder / SPARE_RECORD, folder)  # it names the folder as it was called when published
    return found[1] if found is not None else None


def _read_record(path: Path, site: Path) -> tuple[str, Published] | None:
    """A site record (`_write_published`): the folder name it holds, and its keys and shell digests as what
    `site` was made from; None when it cannot be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        shells = {int(levels): str(digest) for levels, digest in data["shells"].items()}
        return str(data["site"]), Published(site, {str(k): str(v) for k, v in data["keys"].items()}, shells)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _keep_spare(project: Project, retired: Published) -> None:
    """Make the site just replaced the spare, in place of the last one (what a build took from that one is
    gone; the rest goes to the trash). Its record (still `.site-published.json`, which names it: called
    before this build's record is written) is linked into the folder before the folder is renamed, so a
    spare always comes with the keys of its pages. A folder without a record it can trust, or that cannot
    become the spare, is left for clean_leftovers, as every old site was before."""
    spare = project.build_dir / SPARE
    if os.path.lexists(spare):
        _discard(project.build_dir, spare)
    if not retired.keys:  # the record named another folder (see _read_published)
        return
    with suppress(OSError):
        os.link(_published_path(project), retired.site / SPARE_RECORD)
        os.replace(retired.site, spare)


def _published(target: Path) -> str | None:
    """The folder name `build/site` points at, or None when it is not a link."""
    try:
        return os.readlink(target)
    except OSError:
        return None


def publish(folder: Path, target: Path) -> None:
    """Make `target` (a symbolic link) point at `folder` in one rename: a reader sees the old site or the
    new one. A `target` that is still a real folder (sites built before this scheme) is moved aside first."""
    link = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.link")
    os.symlink(folder.name, link)
    try:
        if target.is_dir() and not target.is_symlink():
            os.replace(target, target.with_name(f"{target.name}.legacy-{secrets.token_hex(4)}"))
        os.replace(link, target)
    finally:
        with suppress(OSError):
            link.unlink()


def clean_leftovers(project: Project) -> None:
    """Clear what killed or failed builds left in build/: site folders no link points at (moved to the trash,
    which a detached process empties), half-made links, the staging folders of earlier versions, temporary
    database copies and their journals. Called with the site lock held, so no other site build is writing
    any of them."""
    build_dir = project.build_dir
    target = site_dir(project)
    current = _published(target)
    if build_dir.is_dir():
        for entry in os.scandir(build_dir):
            name = entry.name
            if name.startswith(target.name + ".") and name != current and entry.is_dir(follow_symlinks=False):
                _discard(build_dir, Path(entry.path))
            elif name.startswith(f".{target.name}.") and name.endswith(".link") and entry.is_symlink():
                with suppress(OSError):
                    os.unlink(entry.path)
    # Temporary files of killed writers anywhere in build/ (the database, search artefacts), not in sites (a
    # walk through the 10,000 page folders of one took half a second).
    for folder, dirs, _ in os.walk(build_dir):
        dirs[:] = [d for d in dirs if not d.startswith(target.name + ".") and d not in (TRASH, SPARE)]
        atomic.clean_leftovers(Path(folder))
    _empty_trash(build_dir)


# Old sites are moved here (one rename) and removed by a detached process: removing 10,000 page folders
# takes 2-7 s on this machine, which a reader waiting for the new site need not wait for. What a killed
# remover leaves is handed to the next one.
TRASH = ".trash"
_REMOVE = "import os, shutil, sys\nfor e in os.scandir(sys.argv[1]): shutil.rmtree(e.path, ignore_errors=True)"


def _discard(build_dir: Path, folder: Path) -> None:
    trash = build_dir / TRASH
    try:
        trash.mkdir(exist_ok=True)
        os.replace(folder, trash / f"{folder.name}.{secrets.token_hex(4)}")
    except OSError:  # cannot move it aside: remove it here
        shutil.rmtree(folder, ignore_errors=True)


def _empty_trash(build_dir: Path) -> None:
    trash = build_dir / TRASH
    try:
        if not any(trash.iterdir()):
            return
    except OSError:
        return
    try:
        subprocess.Popen(  # noqa: S603 - our own interpreter and a fixed script
            [sys.executable, "-c", _REMOVE, str(trash)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:  # no process to spare: remove it here
        for entry in os.scandir(trash):
            shutil.rmtree(entry.path, ignore_errors=True)


def serve(project: Project, *, address: str = "127.0.0.1:8000", xai: bool = True) -> None:
    """Live preview: regenerate when records, taxonomy or hand-written pages change; mkdocs reloads the browser."""
    from mkdocs.commands import serve as mkdocs_serve

    # Stamp before the first generation, so an edit made while it runs is picked up, not lost.
    stamp = _stamp(project)
    with lock.held(_lock_path(project)):
        kb = _prepare(project)
        generate(project, kb, xai=xai)
    stop = threading.Event()

    def watch() -> None:
        nonlocal stamp
        while not stop.wait(1.5):
            now = _stamp(project)
            if now != stamp:
                stamp = now
                try:
                    with lock.held(_lock_path(project)):
                        generate(project, _prepare(project), xai=xai)
                except Exception as exc:  # noqa: BLE001 - a bad edit must not stop the preview
                    logging.getLogger("kb").warning("not regenerated: %s", exc)

    threading.Thread(target=watch, daemon=True).start()
    try:
        # Preview at the server's root whatever path mkdocs.yml's site_url has (mkdocs serve mounts the site there).
        overrides = {**_overrides(project, kb, site_dir=None), "site_url": ""}
        mkdocs_serve.serve(config_file=str(_config_file(project)), livereload=True, dev_addr=address, **overrides)
    finally:
        stop.set()


def _prepare(project: Project) -> KnowledgeBase:
    from kb import db
    from kb.loader import load

    kb = load(project, parse_cache=Artefacts(project).parsed_records)
    db.ensure_built(project, kb)
    return kb


EMBEDDING, DATABASE = "embedding", "database"  # the jobs of the forked child, in the order they run


def _background(project: Project, kb: KnowledgeBase) -> Background:
    """In a forked child, one after the other (`kb.site.background`): the sentence-transformer vectors of new or
    changed texts, into the embedding cache, while the pages that need no search index are made (when every
    text is cached the job only checks); then the database, which the site does not read."""

    def embedding() -> None:
        from kb.artefacts import Artefacts
        from kb.search.document import Document
        from kb.search.transformer import EmbeddingCache

        texts = [Document.of(r, kb.taxonomy).text for r in sorted(kb, key=lambda r: r.id)]
        EmbeddingCache(Artefacts(project).embeddings).embed(texts)

    def database() -> None:
        from kb import db

        db.ensure_built(project, kb)

    return Background([(EMBEDDING, embedding), (DATABASE, database)])


def _embedded(background: Background) -> None:
    """Wait for the texts to be embedded (saying so when it takes a while: a first build embeds every text for
    minutes). A failure is not the build's: the search index embeds what is still missing and reports its
    own failure."""
    if not background.ended(EMBEDDING, timeout=2.0):
        sys.stderr.write("waiting for new or changed texts to be embedded with the sentence-transformer...\n")
    with suppress(KbError, RuntimeError):
        background.wait(EMBEDDING)


def _stamp(project: Project) -> str:
    site = project.root / "site"
    extra = (
        "".join(f"{p}{p.stat().st_mtime_ns}" for p in sorted(site.rglob("*")) if p.is_file()) if site.is_dir() else ""
    )
    return source_stamp(project) + extra


def _config_file(project: Project) -> Path:
    path = project.root / CONFIG
    if not path.is_file():
        raise KbError(f"{path}: missing; the site is configured by mkdocs.yml at the top of the knowledge base")
    return path


def _overrides(project: Project, kb: KnowledgeBase, site_dir: Path | None) -> dict[str, Any]:
    import yaml

    text = _config_file(project).read_text(encoding="utf-8")
    raw = yaml.load(text, Loader=_IgnoreTags)  # type: ignore[arg-type]  # noqa: S506 - a tag-ignoring SafeLoader
    nav = raw.get("nav") if isinstance(raw, dict) else None
    overrides: dict[str, Any] = {"docs_dir": str(project.root / DOCS_DIR)}
    # The feeds' <link rel="alternate"> in every page's head (kb.site.feeds.on_post_page), after any hooks of
    # mkdocs.yml.
    from kb.site.feeds import HOOK

    hooks: list[Any] = raw["hooks"] if isinstance(raw, dict) and isinstance(raw.get("hooks"), list) else []
    overrides["hooks"] = [*hooks, str(HOOK)]
    if site_dir is not None:
        overrides["site_dir"] = str(site_dir)
    if isinstance(nav, list):
        overrides["nav"] = [_expand(entry, kb) for entry in nav]
    return overrides


def _expand(entry: Any, kb: KnowledgeBase) -> Any:
    if isinstance(entry, dict) and set(entry) == {BROWSE}:
        taxonomy = kb.taxonomy

        def node(area_id: str) -> Any:
            children = taxonomy.children(area_id)
            # The theme writes nav titles into the page unescaped (navigation, tabs); escape them here.
            name = html.escape(taxonomy.areas[area_id].name, quote=True)
            if not children:
                return {name: area_doc(area_id)}
            return {name: [{"Overview": area_doc(area_id)}, *(node(c) for c in children)]}

        return {BROWSE: [{"All areas": "areas/index.md"}, *(node(r) for r in taxonomy.roots())]}
    return entry


def _config(project: Project, kb: KnowledgeBase, *, site_dir: Path, strict: bool) -> Any:
    from mkdocs.config import load_config

    return load_config(str(_config_file(project)), strict=strict, **_overrides(project, kb, site_dir))


def _mkdocs_build(config: Any) -> None:
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.exceptions import Abort, ConfigurationError

    try:
        config.plugins.on_startup(command="build", dirty=False)
        try:
            mkdocs_build(config)
        finally:
            config.plugins.on_shutdown()
    except (Abort, ConfigurationError) as exc:
        raise KbError(f"mkdocs build failed: {exc}") from exc


class _IgnoreTags:
    """A SafeLoader that reads mkdocs.yml's `!!python/name:` tags as plain strings (we only need the nav)."""

    def __new__(cls, stream: Any) -> Any:
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
        Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
        return Loader(stream)
