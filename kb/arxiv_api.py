"""Fetching paper metadata from arXiv's export API through the `arxiv` package.

The package does the HTTP and parses the Atom feed; this module adds what `kb add` needs on top:
a configurable base URL (tests and mirrors point `KB_ARXIV_API_URL` elsewhere), a timeout (the
package has none), and one clear `KbError` per failure instead of the package's exceptions.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kb import identifier
from kb.errors import KbError

if TYPE_CHECKING:
    import arxiv

API_URL_ENV = "KB_ARXIV_API_URL"
DELAY_ENV = "KB_ARXIV_DELAY"
DEFAULT_API_URL = "https://export.arxiv.org/api/query"
# arXiv's terms of use ask for no more than one request every three seconds.
DEFAULT_DELAY = 3.0
DEFAULT_TIMEOUT = 30.0
RETRIES = 2
# arXiv keeps a withdrawn paper's page; its last version says so in the comment or in place of the abstract.
_WITHDRAWN = re.compile(r"\b(?:(?:has been|is|was) withdrawn|withdrawn by (?:the )?authors?|^\s*withdrawn\b)", re.I)


@dataclass(frozen=True)
class ArxivPaper:
    """The facts arXiv states about one paper, with the id normalised (no version)."""

    id: str
    version: str
    title: str
    authors: list[str]
    published: dt.date
    abstract: str
    comment: str | None
    journal_ref: str | None
    doi: str | None
    primary_category: str

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.id}"


def api_url() -> str:
    url = os.environ.get(API_URL_ENV, "").strip() or DEFAULT_API_URL
    if not re.match(r"^https?://[^\s/]+", url):
        raise KbError(f"{API_URL_ENV}='{url}' is not an http(s) URL")
    return url


def _delay() -> float:
    text = os.environ.get(DELAY_ENV, "").strip()
    if not text:
        return DEFAULT_DELAY
    try:
        value = float(text)
    except ValueError:
        raise KbError(f"{DELAY_ENV}='{text}' is not a number of seconds") from None
    if value < 0:
        raise KbError(f"{DELAY_ENV}='{text}' must not be negative")
    return value


def _client(timeout: float) -> arxiv.Client:
    try:
        import arxiv
        import requests
    except ImportError as exc:
        raise KbError(f"`kb add` needs the arxiv extra ({exc.name} is not installed): pip install -e '.[arxiv]'") from None

    class _TimeoutSession(requests.Session):
        def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            kwargs.setdefault("timeout", timeout)
            return super().request(method, url, *args, **kwargs)

    client = arxiv.Client(page_size=1, delay_seconds=_delay(), num_retries=RETRIES)
    client.query_url_format = api_url() + "?{}"
    # arxiv 4.x requests with no timeout at all; its Client keeps its requests.Session here.
    client._session = _TimeoutSession()
    return client


class Fetcher:
    """Fetch papers one id at a time, sharing one client so the polite delay applies between them."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self.url = api_url()
        self._client = _client(timeout)

    def fetch(self, paper_id: str) -> ArxivPaper:
        """`paper_id` is already normalised (see `normalise`). Raises KbError with a message for a person."""
        import arxiv
        import requests

        search = arxiv.Search(id_list=[paper_id], max_results=1)
        try:
            results = list(self._client.results(search))
        except requests.exceptions.Timeout:
            raise KbError(f"{paper_id}: arXiv did not answer within {self.timeout:g} s ({self.url}); try again later or pass a larger --timeout") from None
        except requests.exceptions.ConnectionError as exc:
            raise KbError(f"{paper_id}: cannot reach arXiv at {self.url} ({_reason(exc)}); check the network or {API_URL_ENV}") from None
        except requests.exceptions.RequestException as exc:
            raise KbError(f"{paper_id}: the request to arXiv at {self.url} failed: {_reason(exc)}") from None
        except arxiv.HTTPError as exc:
            if exc.status == 400:
                raise KbError(f"{paper_id}: arXiv refused the id as malformed (HTTP 400)") from None
            raise KbError(f"{paper_id}: arXiv answered HTTP {exc.status} after {RETRIES + 1} tries ({self.url}); try again later") from None
        except arxiv.ArxivError as exc:
            raise KbError(f"{paper_id}: arXiv's answer could not be used: {exc.message}") from None
        if not results:
            raise KbError(f"{paper_id}: arXiv has no paper with this id (check it at https://arxiv.org/abs/{paper_id})")
        return _paper(paper_id, results[0])


def _reason(exc: Exception) -> str:
    # requests nests the socket error several levels deep; the innermost message is the useful one.
    inner: BaseException = exc
    while inner.args and isinstance(inner.args[0], BaseException):
        inner = inner.args[0]
    reason = getattr(inner, "reason", None)
    text = str(reason or inner)
    return re.sub(r"^<[^>]+>: ", "", text)[:200]


def normalise(text: str) -> str:
    """A contributor's id, URL or versioned id -> the bare arXiv id. Raises KbError."""
    try:
        return identifier.normalise_arxiv(text)
    except ValueError as exc:
        raise KbError(str(exc)) from None


def _paper(requested: str, result: arxiv.Result) -> ArxivPaper:
    short = result.get_short_id()
    version_match = identifier.VERSION.search(short)
    bare = identifier.VERSION.sub("", short)
    if bare != requested:
        raise KbError(f"{requested}: arXiv answered with a different paper ({short}); not using it")
    title = " ".join(result.title.split())
    abstract = " ".join(result.summary.split())
    comment = " ".join(result.comment.split()) if result.comment else None
    for text in (comment, abstract):
        if text and _WITHDRAWN.search(text):
            raise KbError(f"{requested}: arXiv lists this paper as withdrawn ('{_shorten(text)}'); a withdrawn paper is not added")
    if not title:
        raise KbError(f"{requested}: arXiv's entry has no title; not writing a draft")
    return ArxivPaper(
        id=bare,
        version=version_match.group(0) if version_match else "",
        title=title,
        authors=[" ".join(a.name.split()) for a in result.authors if a.name.strip()],
        published=result.published.date(),
        abstract=abstract,
        comment=comment,
        journal_ref=" ".join(result.journal_ref.split()) if result.journal_ref else None,
        doi=result.doi.strip() if result.doi else None,
        primary_category=result.primary_category,
    )


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
