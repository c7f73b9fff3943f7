"""Fetching paper metadata from arXiv's export API through the `arxiv` package.

The package parses the Atom feed; the HTTP goes through `kb.download` (one deadline including retries,
Retry-After honoured, a size cap). This module adds what `kb add` needs on top: a configurable base URL
(tests and mirrors point `KB_ARXIV_API_URL` elsewhere), a check that the answer is an Atom feed at all
(an HTML page or an empty body is not "no such paper"), and one typed error per failure.
"""

from __future__ import annotations

import datetime as dt
import logging
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
        raise KbError(
            f"`kb add` needs the arxiv extra ({exc.name} is not installed)", hint="pip install -e '.[arxiv]'"
        ) from None

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

        answer = download.get(
            self.service,
            url,
            self.deadline,
            max_bytes=MAX_ANSWER_BYTES,
            headers=headers,
            retries=RETRIES,
            backoff=max(_delay(), 0.5),
        )
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
        raise RemoteAnswerInvalid(
            service.name,
            service.url,
            f"{service.name} answered with an empty body",
            hint=f"check {service.setting} or try again later",
        )
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
        raise RemoteAnswerInvalid(
            service.name,
            service.url,
            f"{service.name}'s answer is {what}, not an Atom feed",
            hint=f"check {service.setting} or try again later",
        ) from None
    if roots != [ATOM_FEED]:
        root = roots[0] if roots else ""
        raise RemoteAnswerInvalid(
            service.name,
            service.url,
            f"{service.name}'s answer is XML but not an Atom feed (root element '{root}')",
            hint=f"check {service.setting}",
        )


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
                raise RemoteRefused(
                    "arXiv", self.url, 400, f"{paper_id}: arXiv refused the id as malformed (HTTP 400)"
                ) from None
            tries = f"{self._session.tries} {'try' if self._session.tries == 1 else 'tries'}"
            raise RemoteRefused(
                "arXiv",
                self.url,
                exc.status,
                f"{paper_id}: arXiv answered HTTP {exc.status} after {tries} ({self.url})",
                hint="try again later",
            ) from None
        except arxiv.ArxivError as exc:
            raise RemoteAnswerInvalid(
                "arXiv", self.url, f"{paper_id}: arXiv's answer could not be used: {exc.message}"
            ) from None
        except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as exc:
            # The package builds each Result as it parses; a bad date or a missing element ends up here.
            raise RemoteAnswerInvalid(
                "arXiv",
                self.url,
                f"{paper_id}: arXiv's entry could not be read ({type(exc).__name__}: {exc})",
                hint="try again later; if it persists the entry itself is broken",
            ) from None
        finally:
            self._last = time.monotonic()
        if not results:
            raise NotFound(
                "arXiv paper",
                paper_id,
                f"{paper_id}: arXiv has no paper with this id",
                hint=f"check it at https://arxiv.org/abs/{paper_id}",
            )
        return _paper(paper_id, results[0])


def _reason(exc: Exception) -> str:
    # requests nests the socket error several levels deep; the innermost message is the useful one.
    inner: BaseException = exc
    while inner.args and isinstance(inner.args[0], BaseException):
        inner = inner.args[0]
    reason = getattr(inner, "reason", None)
    return re.sub(r"^<[^>]+>: ", "", str(reason or inner))[:200]


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
            raise KbError(
                f"{requested}: arXiv lists this paper as withdrawn ('{_shorten(text)}'); a withdrawn paper is not added"
            )
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


# -- many papers at once: `kb refresh` (by id) and `kb watch` (a listing) ---------------------------------

# arXiv answers up to 2,000 entries a page; a few hundred keep each answer small and quick to retry.
BATCH = 100
LISTING_PAGE = 200
# A listing longer than this is refused rather than cut: the papers not read would be lost to `kb watch`.
MAX_LISTING = 20_000


@dataclass(frozen=True)
class Skipped:
    """An entry of arXiv's answer that is not used, and why (withdrawn, malformed)."""

    id: str
    reason: str


@dataclass(frozen=True)
class Listing:
    """The papers of a listing, newest first, and what was left out of it."""

    papers: list[ArxivPaper]
    total: int  # arXiv's count of matching papers (all dates)
    pages: int
    withdrawn: list[Skipped]
    malformed: list[Skipped]


def paper_of(result: arxiv.Result) -> ArxivPaper:
    """The facts of one listing entry. Raises KbError for a withdrawn paper or an unusable entry."""
    short = result.get_short_id()
    bare = identifier.VERSION.sub("", short)
    try:
        bare = identifier.normalise_arxiv(bare)
    except ValueError:
        raise KbError(f"'{_shorten(short, 60)}' is not an arXiv id") from None
    return _paper(bare, result)


class _EntryLog(logging.Handler):
    """Collects the entries the `arxiv` package drops while parsing (it logs them and goes on)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _Failures:
    """Turns the HTTP client's and the package's exceptions into one KbError naming what was asked."""

    def __init__(self, fetcher: Fetcher, what: str) -> None:
        self.fetcher = fetcher
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            return
        import arxiv
        import requests

        url, what = self.fetcher.url, self.what
        if isinstance(exc, RemoteError):  # kb.download's own, already saying what went wrong
            raise _about(what, exc) from None
        if isinstance(exc, requests.exceptions.Timeout):
            raise KbError(
                f"{what}: arXiv did not answer within {self.fetcher.timeout:g} s ({url}); try again later"
            ) from None
        if isinstance(exc, requests.exceptions.ConnectionError):
            raise KbError(
                f"{what}: cannot reach arXiv at {url} ({_reason(exc)}); check the network or {API_URL_ENV}"
            ) from None
        if isinstance(exc, requests.exceptions.RequestException):
            raise KbError(f"{what}: the request to arXiv at {url} failed: {_reason(exc)}") from None
        if isinstance(exc, arxiv.UnexpectedEmptyPageError):
            raise KbError(
                f"{what}: arXiv answered an empty page inside the listing {RETRIES + 1} times ({url}); try again later"
            ) from None
        if isinstance(exc, arxiv.HTTPError):
            raise KbError(
                f"{what}: arXiv answered HTTP {exc.status} after {RETRIES + 1} tries ({url}); try again later"
            ) from None
        if isinstance(exc, arxiv.ArxivError):
            raise KbError(f"{what}: arXiv's answer could not be used: {exc.message}") from None


def fetch_many(fetcher: Fetcher, ids: list[str]) -> tuple[dict[str, ArxivPaper], list[Skipped]]:
    """The current facts of many papers, BATCH ids a request. Papers arXiv does not return are simply absent;
    withdrawn ones and unusable entries are listed as skipped. Any HTTP failure raises KbError."""
    import arxiv

    found: dict[str, ArxivPaper] = {}
    skipped: list[Skipped] = []
    fetcher._client.page_size = BATCH
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        search = arxiv.Search(id_list=chunk, max_results=len(chunk))
        fetcher._session.deadline = download.Deadline(fetcher.timeout)  # one deadline per batch
        with _Failures(fetcher, f"papers {start + 1}-{start + len(chunk)} of {len(ids)}"):
            results = list(fetcher._client.results(search))
        for result in results:
            try:
                paper = paper_of(result)
            except KbError as exc:
                skipped.append(Skipped(identifier.VERSION.sub("", result.get_short_id()), str(exc)))
                continue
            if paper.id in chunk:
                found[paper.id] = paper
    return found, skipped


def listing(fetcher: Fetcher, query: str, since: dt.date, page_size: int = LISTING_PAGE) -> Listing:
    """Every paper matching `query` first submitted on or after `since`, newest first, page by page (the
    package waits KB_ARXIV_DELAY between requests and retries failures and unexpectedly empty pages).

    Raises KbError when a page fails, is not a readable feed, or the listing is longer than MAX_LISTING:
    a listing is used whole or not at all, so `kb watch` never moves past papers it did not read."""
    import arxiv

    client = fetcher._client
    client.page_size = page_size
    # HTTP retries happen in kb.download; the package's own retry is only for an unexpectedly empty page.
    client.num_retries = RETRIES
    client.delay_seconds = fetcher.delay
    search = arxiv.Search(
        query=query, max_results=None, sort_by=arxiv.SortCriterion.SubmittedDate, sort_order=arxiv.SortOrder.Descending
    )
    papers: dict[str, ArxivPaper] = {}
    withdrawn: list[Skipped] = []
    malformed: list[Skipped] = []
    log = _EntryLog()
    feed_logger = logging.getLogger("arxiv._feed")
    level = feed_logger.level
    # `_client` silences the package below ERROR; its notes on dropped entries are what we count here.
    feed_logger.setLevel(logging.WARNING)
    feed_logger.addHandler(log)
    start, pages, total = 0, 0, 0
    try:
        while True:
            url = client._format_url(search, start, page_size)
            fetcher._session.deadline = download.Deadline(fetcher.timeout)  # one deadline per page
            with _Failures(fetcher, f"arXiv listing from entry {start}"):
                # The first page may be empty (nothing new); an empty page further on is retried, then refused.
                feed = client._parse_feed(url, first_page=start == 0)
            pages += 1
            # arXiv's feed always states how many entries a page holds; an error page parsed leniently does not.
            if feed.malformed or feed.header.items_per_page <= 0:
                reason = f" ({feed.error})" if feed.error else ""
                raise KbError(
                    f"arXiv listing from entry {start}: the answer is not a readable Atom feed{reason}; try again later"
                )
            total = feed.header.total_results if start == 0 else total
            if total > MAX_LISTING:
                raise KbError(
                    f"arXiv lists {total} papers for this query; more than {MAX_LISTING}: pass a later --since"
                )
            older = False
            for result in feed.results:
                if result.published.date() < since:
                    older = True
                    continue
                try:
                    paper = paper_of(result)
                except KbError as exc:
                    target = withdrawn if "withdrawn" in str(exc) else malformed
                    target.append(Skipped(identifier.VERSION.sub("", result.get_short_id()), str(exc)))
                    continue
                papers.setdefault(paper.id, paper)
            malformed += [Skipped("", message) for message in log.messages]
            log.messages.clear()
            start += page_size
            if older or not feed.results or start >= total:
                break
    finally:
        feed_logger.removeHandler(log)
        feed_logger.setLevel(level)
    ordered = sorted(papers.values(), key=lambda p: (p.published, p.id), reverse=True)
    return Listing(ordered, total, pages, withdrawn, malformed)
