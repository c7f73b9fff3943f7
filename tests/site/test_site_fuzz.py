"""Property: the hostile text the validation fuzzer generates (tests/fuzz/strategies.py), once it is valid
record text, renders in a real page in Chromium exactly as written and runs nothing. It lives here to share
the site tests' browser fixtures.

The record goes through the site's own page renderer and the Markdown pipeline mkdocs uses (the
extensions of mkdocs.yml), then into headless Chromium; a small number of examples keeps it quick.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kb import graph as kb_graph
from kb import text as kb_text
from kb.loader import load
from kb.project import Project
from kb.records import validate
from kb.site import paper_page
from kb.site.context import SiteContext
from tests.conftest import REPO, TOY
from tests.fuzz.strategies import MARK, TEXT

pytestmark = pytest.mark.browser
EXAMPLES = int(float(os.environ.get("KB_FUZZ_EXAMPLES", "1")) * 25)


def _valid(value: str, low: int, high: int, pad: str = "") -> str:
    value = (value + pad).strip()
    value = value if len(value) >= low else (value + " " + "x" * low).strip()
    return value[:high].strip()


def _keep_allowed(value: str, multiline: bool = False) -> str:
    """The characters validation accepts: what reaches a page is whatever is left of the hostile text."""
    return "".join(c for c in value if kb_text.problem(c, multiline=multiline) is None or (multiline and c == "\n"))


@st.composite
def hostile_records(draw: st.DrawFn) -> dict[str, Any]:
    """The validation fuzzer's text, kept where a record accepts it, in every free-text field."""
    texts = st.one_of(TEXT, TEXT.map(lambda t: f"{MARK} {t}")).map(_keep_allowed)
    data = copy.deepcopy(yaml.safe_load((TOY / "papers" / "toy-attention-probe.yaml").read_text(encoding="utf-8")))
    data["title"] = _valid("T " + draw(texts), 3, 400)
    data["authors"] = [_valid(draw(texts), 1, 120) for _ in range(draw(st.integers(1, 3)))]
    data["venue"] = _valid(draw(texts), 1, 200)
    multiline = TEXT.map(lambda t: _keep_allowed(t, multiline=True).replace("TODO", "todo"))
    data["summary"] = _valid(draw(multiline), 80, 1500, pad=" " + "y" * 80)
    data["findings"] = [_valid(draw(texts).replace("TODO", "todo"), 15, 400, pad=" finding text")]
    for edge in data.get("builds_on", []):
        edge["note"] = _valid(draw(texts), 1, 300)
    return data


@pytest.fixture(scope="module")
def toy_kb() -> Any:
    return load(Project(TOY))


def _markdown(source: str) -> str:
    import markdown
    from mkdocs.utils.meta import get_data

    body, meta = get_data(source)
    config = yaml.safe_load(re.sub(r"!!python/\S+", "", (REPO / "mkdocs.yml").read_text(encoding="utf-8")))
    extensions: list[Any] = []
    options: dict[str, Any] = {}
    for entry in config["markdown_extensions"]:
        name, settings_ = (next(iter(entry.items())) if isinstance(entry, dict) else (entry, {}))
        extensions.append(name)
        options[name] = settings_ or {}
    html = markdown.markdown(body, extensions=extensions, extension_configs=options)
    title = meta.get("title", "")
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body><article>{html}</article></body></html>"


@settings(max_examples=EXAMPLES, deadline=None, database=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])
@given(data=hostile_records())
def test_generated_record_text_renders_as_text_in_chromium(page: Any, toy_kb: Any, data: dict[str, Any]) -> None:
    from pydantic import ValidationError

    try:
        record = validate(data, toy_kb.taxonomy)
    except ValidationError:
        assume(False)
        return
    records = {**toy_kb.records, record.id: record}
    kb = type(toy_kb)(taxonomy=toy_kb.taxonomy, records=records, files=toy_kb.files)
    ctx = SiteContext(kb=kb, graph=kb_graph.build(kb))
    page.set_content(_markdown(paper_page.render(ctx, record).body))
    page.evaluate("() => document.querySelectorAll('*').forEach(e => ['mouseover', 'focus', 'load', 'error', 'click'].forEach(t => e.dispatchEvent(new Event(t))))")
    assert page.evaluate(f"() => window.{MARK}") is None
    assert page.errors == []
    handlers = page.evaluate("() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes].filter(a => a.name.startsWith('on')).map(a => a.name))")
    assert handlers == []
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert not [h for h in hrefs if not h.startswith(("http://", "https://", "../", "#"))], hrefs
    shown = page.locator("h1.kb-paper-title").text_content()
    assert " ".join(shown.split()) == " ".join(record.title.split())  # exactly as written, markup and all
