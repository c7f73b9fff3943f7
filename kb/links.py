"""Checking the code and project links of the records: which answer, which are dead.

Polite by design: at most CONCURRENCY requests at once overall and one at a time per host, a HEAD
request first (no body), then a GET (body not read) when a server refuses or mishandles HEAD, redirects
followed, a timeout per request. A link is dead when its final answer is an HTTP error or it never answers.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

CONCURRENCY = 8
TIMEOUT = 15.0
USER_AGENT = "mllm-xai-kb-link-check/1 (weekly; one request per host at a time)"
# Servers that answer HEAD with these but serve GET fine are common (405, 403 from CDNs, 501).
RETRY_WITH_GET = {400, 403, 404, 405, 429, 501, 502, 503}


@dataclass(frozen=True)
class Link:
    record: str  # the file it is written in, as shown
    field: str  # links.code or links.project
    url: str


@dataclass(frozen=True)
class Result:
    link: Link
    status: int | None  # the final HTTP status, None when no answer
    final_url: str
    problem: str | None  # None: alive

    @property
    def dead(self) -> bool:
        return self.problem is not None


def check(
    links: Iterable[Link],
    timeout: float = TIMEOUT,
    concurrency: int = CONCURRENCY,
    done: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Every link's result, in the order given. Each distinct URL is asked once."""
    import requests

    listed = list(links)
    hosts: dict[str, threading.Lock] = defaultdict(threading.Lock)
    guard = threading.Lock()
    local = threading.local()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers["User-Agent"] = USER_AGENT
        return local.session  # type: ignore[no-any-return]

    def one(url: str) -> tuple[int | None, str, str | None]:
        host = urlsplit(url).netloc.lower()
        with guard:
            lock = hosts[host]
        with lock:
            return _ask(session(), url, timeout)

    unique = list(dict.fromkeys(link.url for link in listed))
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        answers = dict(zip(unique, pool.map(one, unique), strict=True))
    results = []
    for link in listed:
        status, final, problem = answers[link.url]
        result = Result(link, status, final, problem)
        if done is not None:
            done(result)
        results.append(result)
    return results


def _ask(session: object, url: str, timeout: float) -> tuple[int | None, str, str | None]:
    import requests

    assert isinstance(session, requests.Session)
    try:
        response = session.head(url, allow_redirects=True, timeout=timeout)
        if response.status_code in RETRY_WITH_GET:
            with session.get(url, allow_redirects=True, timeout=timeout, stream=True) as got:
                response = got
        status = response.status_code
        final = response.url
    except requests.exceptions.Timeout:
        return None, url, f"no answer within {timeout:g} s"
    except requests.exceptions.TooManyRedirects:
        return None, url, "too many redirects"
    except requests.exceptions.RequestException as exc:
        return None, url, f"cannot connect ({type(exc).__name__})"
    if status >= 400:
        return status, final, f"HTTP {status}"
    return status, final, None
