"""Bibliographic citations from Semantic Scholar's Graph API, kept only where both ends are records.

`cites` holds verified citations, so nothing here guesses: an id enters a record only when Semantic
Scholar lists a reference whose arXiv id is a record in papers/. The record file is edited in place
(only its `cites` block changes, comments and all else stay) and checked to read back as intended.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb import download, identifier, yamlfile
from kb.errors import KbError, NotFound, RemoteAnswerInvalid, RemoteError, RemoteRefused
from kb.records import Record

API_URL_ENV = "KB_CITATIONS_API_URL"
DEFAULT_API_URL = "https://api.semanticscholar.org/graph/v1"
DEFAULT_TIMEOUT = 30.0
PAGE = 1000  # the API's largest page of references
MAX_PAGES = 20
# A full page of references with their external ids is a few hundred kilobytes.
MAX_PAGE_BYTES = 8 * 1024 * 1024
_TOP_LEVEL_KEY = re.compile(r"^[^\s#-][^:]*:")


def api_url() -> str:
    from kb.arxiv_api import check_url

    url = (os.environ.get(API_URL_ENV, "").strip() or DEFAULT_API_URL).rstrip("/")
    check_url(API_URL_ENV, url)
    return url


@dataclass(frozen=True)
class References:
    """What Semantic Scholar lists for one paper: the arXiv ids among its references, and how many it has."""

    arxiv_ids: list[str]
    total: int


def fetch_references(arxiv_id: str, timeout: float = DEFAULT_TIMEOUT) -> References:
    """Every page of the paper's references, all within one deadline of `timeout` seconds."""
    base = api_url()
    service = download.Service("Semantic Scholar", base, API_URL_ENV)
    deadline = download.Deadline(timeout)
    url = f"{base}/paper/arXiv:{arxiv_id}/references"
    found: dict[str, None] = {}
    total = 0
    offset: int | None = 0
    for _ in range(MAX_PAGES):
        if offset is None:
            break
        try:
            params = {"fields": "externalIds", "offset": offset, "limit": PAGE}
            answer = download.get(service, url, deadline, max_bytes=MAX_PAGE_BYTES, params=params)
        except RemoteError as exc:
            exc.message = f"{arxiv_id}: {exc.message}"
            exc.args = (exc.message,)
            raise
        body = _json(answer, arxiv_id, base)
        if answer.status == 404:
            raise NotFound(
                "paper",
                arxiv_id,
                f"{arxiv_id}: Semantic Scholar does not know this paper ({_api_message(body)}); cites left unchanged",
            )
        if answer.status == 429:
            raise RemoteRefused(
                service.name,
                base,
                429,
                f"{arxiv_id}: Semantic Scholar is rate-limiting requests (HTTP 429)",
                hint="wait a minute and try again",
            )
        if answer.status != 200:
            raise RemoteRefused(
                service.name,
                base,
                answer.status,
                f"{arxiv_id}: Semantic Scholar answered HTTP {answer.status} ({_api_message(body)})",
                hint="try again later",
            )
        entries = body.get("data") if isinstance(body, dict) else None
        if entries is None:
            entries = []
        if not isinstance(entries, list):
            raise RemoteAnswerInvalid(
                service.name,
                base,
                f"{arxiv_id}: Semantic Scholar's answer has no list of references; cites left unchanged",
            )
        total += len(entries)
        for cited in _arxiv_ids(entries):
            found.setdefault(cited, None)
        nxt = body.get("next")
        offset = nxt if isinstance(nxt, int) and nxt > offset and entries else None
    return References(arxiv_ids=list(found), total=total)


def _json(answer: download.Answer, arxiv_id: str, base: str) -> Any:
    try:
        return json.loads(answer.body)
    except (ValueError, RecursionError):
        raise RemoteAnswerInvalid(
            "Semantic Scholar",
            base,
            f"{arxiv_id}: Semantic Scholar answered HTTP {answer.status} with something that is not JSON",
        ) from None


def _api_message(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("error", "message"):
            if isinstance(body.get(key), str):
                return str(body[key])[:200]
    return "no message"


def _arxiv_ids(entries: Iterable[Any]) -> Iterable[str]:
    for entry in entries:
        cited = entry.get("citedPaper") if isinstance(entry, dict) else None
        external = cited.get("externalIds") if isinstance(cited, dict) else None
        raw = external.get("ArXiv") if isinstance(external, dict) else None
        if not isinstance(raw, str):
            continue
        try:
            yield identifier.normalise_arxiv(raw)
        except ValueError:
            continue


def record_ids(papers_dir: Path) -> dict[str, Path]:
    """Every record id in papers/, read leniently: a draft or a broken neighbour must not stop `kb refs`."""
    ids: dict[str, Path] = {}
    for path in sorted(papers_dir.glob("*.yaml")):
        try:
            data = yamlfile.load(path).data
        except (yamlfile.DocumentError, OSError):
            continue
        paper_id = data.get("id") if isinstance(data, dict) else None
        if isinstance(paper_id, str):
            ids[paper_id] = path
            links = data.get("links")
            arxiv = links.get("arxiv") if isinstance(links, dict) else None
            if isinstance(arxiv, str) and arxiv != paper_id:
                ids.setdefault(arxiv, path)
    return ids


def arxiv_id_of(data: dict[str, Any]) -> str | None:
    links = data.get("links")
    candidate = (links.get("arxiv") if isinstance(links, dict) else None) or data.get("id")
    return candidate if isinstance(candidate, str) and identifier.is_arxiv(candidate) else None


def with_cites(text: str, cites: list[str]) -> str:
    """The record text with its top-level `cites` block replaced (or inserted in field order)."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    block = yamlfile.dump({"cites": cites}) if cites else ""
    start = next((i for i, line in enumerate(lines) if line.startswith("cites:")), None)
    if start is not None:
        end = start + 1
        while end < len(lines) and not _TOP_LEVEL_KEY.match(lines[end]):
            end += 1
        # Comments and blank lines just above the next key belong to that key.
        while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
            end -= 1
        return "".join(lines[:start]) + block + "".join(lines[end:])
    later = list(Record.model_fields)[list(Record.model_fields).index("cites") + 1 :]
    at = next((i for i, line in enumerate(lines) if any(line.startswith(f"{key}:") for key in later)), len(lines))
    while at > 0 and lines[at - 1].lstrip().startswith("#"):
        at -= 1
    return "".join(lines[:at]) + block + "".join(lines[at:])


def updated_text(text: str, cites: list[str]) -> str:
    """`with_cites`, checked: the new text must read back to the old data with only `cites` changed."""
    try:
        before = yamlfile.parse(text).data
    except yamlfile.DocumentError as exc:
        raise KbError(f"cannot read the record ({exc.message}, line {exc.line}); fix it first") from None
    new_text = with_cites(text, cites)
    after = yamlfile.parse(new_text).data
    expected = {k: v for k, v in before.items() if k != "cites"}
    if cites:
        expected["cites"] = cites
    if after != expected:
        raise KbError("could not edit `cites` without changing other fields; add the ids by hand: " + ", ".join(cites))
    return new_text


# -- the whole corpus at once: Semantic Scholar's batch endpoint -------------------------------------------

API_KEY_ENV = "KB_SEMANTIC_SCHOLAR_API_KEY"
BATCH = 500  # the batch endpoint takes at most 500 ids a request
TRIES = 5
BACKOFF = 2.0  # seconds before the first retry, doubled each time, when the API names no wait
MAX_WAIT = 120.0  # a longer Retry-After is not waited for: the run stops and keeps what it has
PAUSE = 1.0  # between successful batch requests, to stay well inside the shared rate limit


@dataclass
class Batch:
    """What a run over many papers got: references per paper found, papers Semantic Scholar does not know,
    and, when the run had to stop, why and which papers were not asked."""

    found: dict[str, References]
    unknown: list[str]
    left: list[str]
    error: str | None = None


def fetch_all(arxiv_ids: list[str], timeout: float = DEFAULT_TIMEOUT, sleep: Any = None, progress: Any = None) -> Batch:
    """References of many papers, BATCH a request (POST /paper/batch). A 429 or 5xx answer is retried after
    the Retry-After the API sends (or a doubling back-off), up to TRIES times; when a batch still fails, the
    run stops and returns what it has, so every paper answered so far is kept. A paper whose reference list
    the batch answer cut short is read in full from its /references pages."""
    try:
        import requests
    except ImportError:
        raise KbError(
            "`kb refs` needs the arxiv extra (requests is not installed): pip install -e '.[arxiv]'"
        ) from None
    import time

    wait = sleep or time.sleep
    base = api_url()
    headers = {"x-api-key": os.environ[API_KEY_ENV]} if os.environ.get(API_KEY_ENV) else {}
    out = Batch(found={}, unknown=[], left=[])
    with requests.Session() as session:
        for start in range(0, len(arxiv_ids), BATCH):
            chunk = arxiv_ids[start : start + BATCH]
            if start:
                wait(PAUSE)
            try:
                answer = _batch(session, base, chunk, headers, timeout, wait)
            except KbError as exc:
                out.left = arxiv_ids[start:]
                out.error = str(exc)
                return out
            for arxiv_id, paper in zip(chunk, answer, strict=True):
                if not isinstance(paper, dict):
                    out.unknown.append(arxiv_id)
                    continue
                listed = paper.get("references")
                entries: list[Any] = listed if isinstance(listed, list) else []
                count = paper.get("referenceCount")
                if isinstance(count, int) and count > len(entries):
                    try:
                        out.found[arxiv_id] = fetch_references(arxiv_id, timeout)
                    except KbError:
                        out.found[arxiv_id] = References(
                            list(dict.fromkeys(_arxiv_ids(_as_cited(entries)))), len(entries)
                        )
                    continue
                out.found[arxiv_id] = References(list(dict.fromkeys(_arxiv_ids(_as_cited(entries)))), len(entries))
            if progress is not None:
                progress(min(start + BATCH, len(arxiv_ids)), len(arxiv_ids))
    return out


def _as_cited(entries: list[Any]) -> list[Any]:
    """The batch answer lists referenced papers themselves; `_arxiv_ids` reads /references entries."""
    return [entry if isinstance(entry, dict) and "citedPaper" in entry else {"citedPaper": entry} for entry in entries]


def _batch(session: Any, base: str, chunk: list[str], headers: dict[str, str], timeout: float, wait: Any) -> list[Any]:
    import requests

    url = f"{base}/paper/batch"
    params = {"fields": "externalIds,referenceCount,references.externalIds"}
    what = f"{len(chunk)} papers from arXiv:{chunk[0]}"
    for attempt in range(TRIES):
        try:
            response = session.post(
                url, params=params, json={"ids": [f"arXiv:{i}" for i in chunk]}, headers=headers, timeout=timeout
            )
        except requests.exceptions.Timeout:
            problem = f"Semantic Scholar did not answer within {timeout:g} s ({base})"
            delay = BACKOFF * 2**attempt
        except requests.exceptions.RequestException as exc:
            raise KbError(
                f"{what}: cannot reach Semantic Scholar at {base} ({type(exc).__name__}); check the network or"
                f" {API_URL_ENV}"
            ) from None
        else:
            if response.status_code == 200:
                body = _json_or_none(response)
                if body is None:
                    raise KbError(f"{what}: Semantic Scholar answered HTTP 200 with something that is not JSON")
                if not isinstance(body, list) or len(body) != len(chunk):
                    raise KbError(f"{what}: Semantic Scholar's batch answer is not one entry per paper asked")
                return body
            if response.status_code != 429 and response.status_code < 500:
                raise KbError(
                    f"{what}: Semantic Scholar answered HTTP {response.status_code}"
                    f" ({_api_message(_json_or_none(response))})"
                )
            problem = f"Semantic Scholar answered HTTP {response.status_code}" + (
                " (rate limit)" if response.status_code == 429 else ""
            )
            delay = _retry_after(response.headers.get("Retry-After"), BACKOFF * 2**attempt)
        if attempt + 1 == TRIES or delay > MAX_WAIT:
            break
        wait(delay)
    raise KbError(f"{what}: {problem} {TRIES if attempt + 1 == TRIES else attempt + 1} times; try again later")


def _retry_after(value: str | None, default: float) -> float:
    """Retry-After in seconds (the API sends seconds; an HTTP date is also allowed by the standard)."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import datetime as dt
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _json_or_none(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
