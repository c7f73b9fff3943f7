"""Fetching paper metadata from arXiv's export API through the `arxiv` package.

The package parses the Atom feed; the HTTP goes through `kb.download` (one deadline including retries,
Retry-After honoured, a size cap). This module adds what `kb add` needs on top: a configurable base URL
(tests and mirrors point `KB_ARXIV_API_URL` elsewhere), a check that the answer is an Atom feed at all
(an HTML page or an empty body is not "no such paper"), and one typed error per failure.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kb import download, identifier
from kb.errors import ConfigError, KbError, NotFound, RemoteAnswerInvalid, RemoteError, RemoteRefused

if TYPE_CHECKING:
    import arxiv

API_URL_ENV = "KB_ARXIV_API_URL"
DELAY_ENV = "KB_ARXIV_DELAY"
DEFAULT_API_URL = "https://export.arxiv.org/api/query"
# arXiv's terms of use ask for no more than one request every three seconds.
DEFAULT_DELAY = 3.0
DEFAULT_TIMEOUT = 30.0
MAX_DELAY = 60.0
RETRIES = 2
# One paper's entry is a few kilobytes; anything near this is not an answer to our question.
MAX_ANSWER_BYTES = 4 * 1024 * 1024
ATOM_FEED = "http://www.w3.org/2005/Atom feed"
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
    check_url(API_URL_ENV, url)
    return url


def check_url(setting: str, url: str) -> None:
    """An http(s) URL with a host, and no character a URL must percent-encode (braces, spaces, controls)."""
    if not re.match(r"^https?://[^\s/]+", url, flags=re.I):
        raise ConfigError(setting, url, "is not an http(s) URL")
    bad = re.search(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]", url)
    if bad is not None:
        raise ConfigError(setting, url, f"holds '{bad.group(0)}', which a URL must percent-encode")
    if not urlsplit(url).hostname:
        raise ConfigError(setting, url, "has no host name")


def _delay() -> float:
    text = os.environ.get(DELAY_ENV, "").strip()
    if not text:
        return DEFAULT_DELAY
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(DELAY_ENV, text, "is not a number of seconds") from None
    if not math.isfinite(value) or not 0 <= value <= MAX_DELAY:
        raise ConfigError(DELAY_ENV, text, f"must be a number of seconds from 0 to {MAX_DELAY:g}")
    return value


def _client(session: Any) -> arxiv.Client:
    try:
        import arxiv
    except ImportError as exc:
        raise KbError(f"`kb add` needs the arxiv extra ({exc.name} is not installed)",
                      hint="pip install -e '.[arxiv]'") from None

    # The package parses the Atom feed; the HTTP, its retries and the polite delay are ours (kb.download):
    # one deadline for the whole fetch, Retry-After honoured, a size cap.
    client = arxiv.Client(page_size=1, delay_seconds=0, num_retries=0)
    client.query_url_format = api_url() + "?{}"
    client._session = session  # arxiv 4.x keeps its requests.Session here and only calls .get(url, headers=...)
    return client


class _Session:
    """What `arxiv.Client` needs of a requests.Session (`get`), answered through kb.download."""

    def __init__(self, service: download.Service) -> None:
        self.service = service
        self.deadline = download.Deadline(DEFAULT_TIMEOUT)
        self.tries = 0

    def get(self, url: str, headers: dict[str, str] | None = None, **_: Any) -> Any:
        import requests

        answer = download.get(self.service, url, self.deadline, max_bytes=MAX_ANSWER_BYTES, headers=headers,
                              retries=RETRIES, backoff=max(_delay(), 0.5))
        self.tries = answer.tries
        if answer.status == 200:
            _check_feed(self.service, answer.body)
        response = requests.Response()
        response.status_code = answer.status
        response._content = answer.body
        response.url = url
        return response


def _check_feed(service: download.Service, body: bytes) -> None:
    """arXiv's answer must be a well-formed Atom feed; the parser would read anything else as 'no paper'."""
    import xml.parsers.expat

    if not body.strip():
        raise RemoteAnswerInvalid(service.name, service.url, f"{service.name} answered with an empty body",
                                  hint=f"check {service.setting} or try again later")
    looks_html = re.match(rb"\s*(<!doctype html|<html)", body[:200], flags=re.I) is not None
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    roots: list[str] = []

    def start(name: str, _attrs: Any) -> None:
        if not roots:
            roots.append(name)

    def refuse_doctype(*_: Any) -> None:
        raise ValueError("a DOCTYPE declaration")  # entity definitions are how XML expansion bombs start

    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = refuse_doctype
    try:
        parser.Parse(body, True)
    except (xml.parsers.expat.ExpatError, ValueError) as exc:
        what = "an HTML page" if looks_html else f"not well-formed XML ({exc})"
        raise RemoteAnswerInvalid(service.name, service.url, f"{service.name}'s answer is {what}, not an Atom feed",
                                  hint=f"check {service.setting} or try again later") from None
    if roots != [ATOM_FEED]:
        root = roots[0] if roots else ""
        raise RemoteAnswerInvalid(service.name, service.url,
                                  f"{service.name}'s answer is XML but not an Atom feed (root element '{root}')",
                                  hint=f"check {service.setting}")


class Fetcher:
    """Fetch papers one id at a time, sharing one client so the polite delay applies between them."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self.url = api_url()
        self.delay = _delay()
        self._service = download.Service("arXiv", self.url, API_URL_ENV)
        self._session = _Session(self._service)
        self._client = _client(self._session)
        self._last: float | None = None

    def fetch(self, paper_id: str) -> ArxivPaper:
        """`paper_id` is already normalised (see `normalise`). Raises KbError with a message for a person."""
        import arxiv

        if self._last is not None:  # arXiv's terms: one request every few seconds; not part of the deadline
            time.sleep(max(0.0, self._last + self.delay - time.monotonic()))
        self._session.deadline = download.Deadline(self.timeout)
        search = arxiv.Search(id_list=[paper_id], max_results=1)
        try:
            results = list(self._client.results(search))
        except RemoteError as exc:
            raise _about(paper_id, exc) from None
        except arxiv.HTTPError as exc:
            if exc.status == 400:
                raise RemoteRefused("arXiv", self.url, 400,
                                    f"{paper_id}: arXiv refused the id as malformed (HTTP 400)") from None
            tries = f"{self._session.tries} {'try' if self._session.tries == 1 else 'tries'}"
            raise RemoteRefused("arXiv", self.url, exc.status,
                                f"{paper_id}: arXiv answered HTTP {exc.status} after {tries} ({self.url})",
                                hint="try again later") from None
        except arxiv.ArxivError as exc:
            raise RemoteAnswerInvalid("arXiv", self.url,
                                      f"{paper_id}: arXiv's answer could not be used: {exc.message}") from None
        except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as exc:
            # The package builds each Result as it parses; a bad date or a missing element ends up here.
            raise RemoteAnswerInvalid("arXiv", self.url,
                                      f"{paper_id}: arXiv's entry could not be read ({type(exc).__name__}: {exc})",
                                      hint="try again later; if it persists the entry itself is broken") from None
        finally:
            self._last = time.monotonic()
        if not results:
            raise NotFound("arXiv paper", paper_id, f"{paper_id}: arXiv has no paper with this id",
                           hint=f"check it at https://arxiv.org/abs/{paper_id}")
        return _paper(paper_id, results[0])


def _about(paper_id: str, exc: RemoteError) -> RemoteError:
    """The same error, its message prefixed with the paper it was about."""
    exc.message = f"{paper_id}: {exc.message}"
    exc.args = (exc.message,)
    return exc


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
