"""Concurrent, killed and failing site builds (issue 15 #2, #8, #10): real processes on a private toy site.

The published site is always whole: two builds at once both succeed one after the other, a build killed
at any moment leaves the previous site, a full disk leaves no staging folder, and the next build clears
what killed builds left behind."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, TOY, kb_executable

pytestmark = pytest.mark.slow


def _site_files(root: Path) -> list[str]:
    site = root / "build" / "site"
    return sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file())


def _stray(root: Path) -> list[str]:
    """Anything in build/ besides the published site folder, its link and the ordinary artefacts."""
    build = root / "build"
    published = os.readlink(build / "site")
    return sorted(p.name for p in build.iterdir() if (p.name.startswith("site.") and p.name != published) or p.name.endswith((".tmp", ".link")))


def _build(root: Path, **kwargs: object) -> subprocess.Popen[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.Popen([*kb_executable(), "site", "build", "--no-xai"], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def first_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("safety") / "kb"
    shutil.copytree(TOY, root)
    shutil.copytree(REPO / "site", root / "site")
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    (root / "build" / "search").mkdir(parents=True)
    for name in ("static-base.npy", "static-base.json"):  # the distilled static model, when cached
        if (REPO / "build" / "search" / name).is_file():
            shutil.copy(REPO / "build" / "search" / name, root / "build" / "search" / name)
    run = _build(root)
    out, err = run.communicate(timeout=1200)
    assert run.returncode == 0, err + out
    files = _site_files(root)
    assert "index.html" in files and len(files) > 50
    return root, files


def test_two_builds_at_once_both_succeed_and_leave_a_whole_site(first_build: tuple[Path, list[str]]) -> None:
    root, files = first_build
    runs = [_build(root) for _ in range(2)]
    outcomes = [(run.wait(timeout=1200), *run.communicate()) for run in runs]
    assert [code for code, _, _ in outcomes] == [0, 0], outcomes
    assert _site_files(root) == files
    assert (root / "build" / "site").is_symlink()
    assert _stray(root) == []


def test_a_build_killed_at_any_moment_leaves_the_previous_site(first_build: tuple[Path, list[str]]) -> None:
    root, files = first_build
    build = root / "build"
    for moment in ("generating", "publishing"):
        run = _build(root)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            staging = [p for p in build.iterdir() if p.name.startswith(f"site.{run.pid}.")]
            if moment == "generating" and (root / ".site-src").exists() and run.poll() is None:
                time.sleep(0.5)
                break
            if staging and (staging[0] / "index.html").exists():
                break  # mkdocs has written pages into its own folder: the very last step is near
            time.sleep(0.01)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=60)
        run.communicate()
        assert _site_files(root) == files, moment
    # The next build starts by removing what the killed ones left, and publishes a whole site again.
    again = _build(root)
    out, err = again.communicate(timeout=1200)
    assert again.returncode == 0, err
    assert _site_files(root) == files and _stray(root) == []


def test_leftovers_of_earlier_builds_are_removed_on_start(first_build: tuple[Path, list[str]]) -> None:
    root, files = first_build
    build = root / "build"
    dead = subprocess.Popen(["true"])
    dead.wait()
    for folder in ("site.tmp", "site.old", f"site.{dead.pid}.0badc0de"):
        (build / folder).mkdir()
        (build / folder / "index.html").write_text("half a site")
    for name in (f".kb.sqlite.{dead.pid}.deadbeef.tmp", f".kb.sqlite.{dead.pid}.deadbeef.tmp-journal"):
        (build / name).write_bytes(b"x" * 4096)
    run = _build(root)
    out, err = run.communicate(timeout=1200)
    assert run.returncode == 0, err
    assert _stray(root) == [] and _site_files(root) == files


def test_a_full_disk_while_publishing_removes_the_staging_folder(first_build: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    from kb.errors import WriteFailed
    from kb.project import Project
    from kb.site import build as site_build

    root, files = first_build
    real = site_build._mkdocs_build

    def fills_the_disk(config: object) -> None:
        real(config)  # pages are written into the staging folder, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(site_build, "_mkdocs_build", fills_the_disk)
    with pytest.raises(WriteFailed) as caught:
        site_build.build(Project(root), xai=False)
    assert caught.value.message == "cannot write build/site: no space left on the device"
    assert _site_files(root) == files and _stray(root) == []


def test_a_reader_that_goes_away_is_a_failure_and_the_site_stays_whole(first_build: tuple[Path, list[str]]) -> None:
    """`kb site build 2>&1 | head -1`: the pipe breaks on the first progress line."""
    root, files = first_build
    (root / "papers" / "2311.16922.yaml").touch()
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([*kb_executable(), "site", "build", "--no-xai"], cwd=root, stdout=write, stderr=write, timeout=1200)
    finally:
        os.close(write)
    assert done.returncode != 0
    assert _site_files(root) == files


def test_a_rebuild_links_unchanged_pages_and_never_writes_into_the_published_site(first_build: tuple[Path, list[str]]) -> None:
    """Unchanged record pages are hard-linked from the published site; a changed one is a new file, and
    the published site's files keep their bytes (a reader of the old site never sees a half-new page)."""
    root, files = first_build
    build = root / "build"
    record = root / "papers" / "2305.10355.yaml"
    original = record.read_text(encoding="utf-8")
    old_site = (build / "site").resolve()
    kept, changed = old_site / "papers" / "2311.16922" / "index.html", old_site / "papers" / "2305.10355" / "index.html"
    before, kept_inode = changed.read_bytes(), kept.stat().st_ino
    witness = root / "witness.html"  # a second name keeps the old page's inode readable after the old site goes
    os.link(changed, witness)
    try:
        record.write_text(original.replace("summary: >-\n", "summary: >-\n  Edited for the page-reuse test.\n", 1), encoding="utf-8")
        run = _build(root)
        out, err = run.communicate(timeout=1200)
        assert run.returncode == 0, err + out
        new_site = (build / "site").resolve()
        assert new_site != old_site
        assert (new_site / "papers" / "2311.16922" / "index.html").stat().st_ino == kept_inode
        new_changed = new_site / "papers" / "2305.10355" / "index.html"
        assert "Edited for the page-reuse test." in new_changed.read_text(encoding="utf-8")
        assert new_changed.stat().st_ino != witness.stat().st_ino
        assert witness.read_bytes() == before
        assert _site_files(root) == files
    finally:
        record.write_text(original, encoding="utf-8")
        witness.unlink()


def test_old_sites_are_removed_by_a_detached_process(first_build: tuple[Path, list[str]]) -> None:
    root, files = first_build
    (root / "papers" / "2311.16922.yaml").touch()
    run = _build(root)
    out, err = run.communicate(timeout=1200)
    assert run.returncode == 0, err
    assert _stray(root) == []
    trash = root / "build" / ".trash"
    deadline = time.monotonic() + 60
    while trash.is_dir() and any(trash.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not trash.is_dir() or not any(trash.iterdir())


def test_a_failed_database_build_in_the_child_stops_the_publication(first_build: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """The database is built in a forked child alongside the site; its failure reaches the caller with its
    message and the published site stays as it was."""
    from kb import db
    from kb.errors import KbError
    from kb.project import Project
    from kb.site import build as site_build

    root, files = first_build
    published = os.readlink(root / "build" / "site")

    def full(project: object, kb: object = None) -> None:
        raise KbError("cannot write build/kb.sqlite: no space left on the device", hint="free some space")

    monkeypatch.setattr(db, "ensure_built", full)
    with pytest.raises(KbError) as caught:
        site_build.build(Project(root), xai=False)
    assert caught.value.message == "cannot write build/kb.sqlite: no space left on the device"
    assert caught.value.hint == "free some space"
    assert os.readlink(root / "build" / "site") == published
    assert _site_files(root) == files and _stray(root) == []


def _site_bytes(root: Path) -> dict[str, bytes]:
    site = (root / "build" / "site").resolve()
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def test_a_rebuild_after_edits_is_byte_for_byte_a_build_from_scratch(first_build: tuple[Path, list[str]]) -> None:
    """Pages whose inputs did not change are neither made nor filled again (kb.site.page_cache): a wrong key
    would leave a stale page. Edits that reach other records' pages: a cited paper's title (on the citing
    paper's page and its tags' tables), an author joining a second paper (their page, their co-authors'), a
    venue moving (two venue pages)."""
    root, files = first_build
    papers = root / "papers"
    edits = {
        "2305.10355.yaml": ("title: Evaluating Object Hallucination", "title: Evaluating Object Hallucinations"),
        "2410.04819.yaml": ("authors: [Kaichen Huang,", "authors: [Ada Example, Kaichen Huang,"),
        "2311.16922.yaml": ("venue: CVPR 2024", "venue: ICCV 2023"),
    }
    originals = {name: (papers / name).read_text(encoding="utf-8") for name in edits}
    build = root / "build"
    try:
        # Two builds: the site published before the current one is the spare, whose page folders the next takes over.
        (papers / "2311.16922.yaml").touch()
        assert _build(root).wait(timeout=1200) == 0
        assert (root / ".site-src" / ".pages" / "rows.json").is_file(), "a build that changes no row keeps them"
        spare = build / "site-spare"
        assert (spare / ".kb-spare.json").is_file()
        folders = {p.relative_to(spare).as_posix(): p.stat().st_ino for p in (spare / "papers").iterdir()}
        for name, (old, new) in edits.items():
            assert old in originals[name]
            (papers / name).write_text(originals[name].replace(old, new, 1), encoding="utf-8")
        run = _build(root)
        out, err = run.communicate(timeout=1200)
        assert run.returncode == 0, err + out
        site = (build / "site").resolve()
        assert {name: (site / name).stat().st_ino for name in folders} == folders, "page folders were moved, not made"
        kept = [doc for doc in json.loads((build / ".site-published.json").read_text())["keys"]]
        incremental = _site_bytes(root)
        assert "Evaluating Object Hallucinations in Large" in incremental["papers/toy-attention-probe/index.html"].decode()
        assert "Kaichen Huang" in incremental["authors/ada-example/index.html"].decode()

        shutil.rmtree(root / ".site-src")
        shutil.rmtree(build / "site-spare")
        (build / ".site-published.json").unlink()
        published = (build / "site").resolve()
        (build / "site").unlink()
        shutil.rmtree(published)
        run = _build(root)
        out, err = run.communicate(timeout=1200)
        assert run.returncode == 0, err + out
        scratch = _site_bytes(root)
        assert sorted(incremental) == sorted(scratch)
        assert [name for name in scratch if scratch[name] != incremental[name]] == []
        assert len(kept) > 20  # record pages carried keys
    finally:
        for name, text in originals.items():
            (papers / name).write_text(text, encoding="utf-8")
    run = _build(root)
    out, err = run.communicate(timeout=1200)
    assert run.returncode == 0, err + out
    assert _site_files(root) == files
