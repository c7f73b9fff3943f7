"""The generated files without a browser: safety helpers, exports, downloads and strict mkdocs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kb.site import markdown_safety as safe


HOSTILE = '<script>x</script> [a](javascript:alert(1)) {: onclick="y" } ![i](x) *b* `c`'


def assert_inert(out: str) -> None:
    """No character of the hostile string survives that HTML or Markdown would read as syntax."""
    for special in "<>[]{}`*\"":
        assert special not in out, f"{special!r} reached the page unescaped: {out}"
    assert "javascript:" not in out, out
    assert "&lt;script&gt;" in out


def test_text_is_inert_for_html_and_markdown() -> None:
    assert_inert(safe.text(HOSTILE))


@pytest.mark.parametrize("dropped", ["<", ">", "[", "{", "`", ":"])
def test_the_inertness_check_fails_when_an_escape_is_removed(monkeypatch: pytest.MonkeyPatch, dropped: str) -> None:
    """The check above must catch a regression: break the escaping of one character on purpose."""
    entities = {k: v for k, v in safe._ENTITIES.items() if k != dropped}
    monkeypatch.setattr(safe, "_ENTITIES", entities)
    monkeypatch.setattr(safe, "_TABLE", str.maketrans(entities))
    safe._escaped.cache_clear()  # short strings are remembered escaped: forget those made with the full table
    try:
        with pytest.raises(AssertionError):
            assert_inert(safe.text(HOSTILE))
    finally:
        safe._escaped.cache_clear()  # and those made with the broken one


def test_only_http_links_are_emitted() -> None:
    assert safe.url("javascript:alert(1)") is None
    assert safe.url("JaVaScRiPt:alert(1)") is None
    assert safe.url("data:text/html,<script>") is None
    assert safe.url("https://example.org/a?b=1&c=2") == "https://example.org/a?b=1&amp;c=2"
    assert safe.link("javascript:alert(1)", "<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;"


def test_export_command_matches_the_site_downloads(site_root: Path, run_kb) -> None:
    for fmt, ext in (("bibtex", "bib"), ("csl-json", "csl.json"), ("jsonl", "jsonl")):
        result = run_kb("export", "--format", fmt, cwd=site_root)
        assert result.returncode == 0, result.stderr
        assert result.stdout == (site_root / "build" / "site" / "downloads" / f"kb.{ext}").read_text(encoding="utf-8")
    lines = (site_root / "build" / "site" / "downloads" / "kb.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 6 and json.loads(lines[0])["id"]
    area = run_kb("export", "--format", "csl-json", "--area", "training-inference", cwd=site_root)
    assert [item["id"] for item in json.loads(area.stdout)] == ["2311.16922"]
    bad = run_kb("export", "--area", "model.layr", cwd=site_root)
    assert bad.returncode == 1 and "did you mean 'model.layer'" in bad.stderr


def test_paper_pages_stay_out_of_the_nav_and_plain_mkdocs_strict_builds(site_root: Path, tmp_path: Path) -> None:
    home = (site_root / "build" / "site" / "index.html").read_text(encoding="utf-8")
    assert "papers/2311.16922/" not in home.split('class="md-content"')[0]
    assert (site_root / "build" / "site" / "papers" / "2311.16922" / "index.html").is_file()
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "out")], cwd=site_root, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
