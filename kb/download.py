"""HTTP GET for the contribution commands, bounded in time and size whatever the server does.

`requests` bounds each socket read, not a request: a server sending one byte a second keeps a read
timeout from ever firing, and retries multiply what is left. Here one `Deadline` covers everything a
download does (connecting, every byte, every retry and every wait between tries); the transfer runs in a
worker thread that the caller stops waiting for when the deadline passes. Answers are streamed and cut
off at a size cap. A 429 or 503 answer's Retry-After is honoured when it fits in the deadline; when it
does not, the download gives up at once instead of sleeping past it.
"""

from __future__ import annotations

import email.utils
import math
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kb.errors import KbError, RemoteAnswerInvalid, RemoteError, RemoteRefused, RemoteTimeout

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CHUNK = 64 * 1024


class Deadline:
    """A point in time, `seconds` from now, shared by every step of one download."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: Mapping[str, str]
    tries: int


@dataclass(frozen=True)
class Service:
    """Who is asked: its name for messages, its base URL, and the setting a user changes to point elsewhere."""

    name: str
    url: str
    setting: str


def get(
    service: Service,
    url: str,
    deadline: Deadline,
    *,
    max_bytes: int,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    retries: int = 2,
    backoff: float = 1.0,
) -> Answer:
    """The final answer (any status) after at most 1 + `retries` tries; RemoteError subclasses otherwise."""
    tries = 0
    while True:
        tries += 1
        try:
            status, body, answer_headers = _once(service, url, deadline, max_bytes, params, headers)
        except _Unreachable as exc:
            if tries > retries:
                raise RemoteError(
                    service.name,
                    service.url,
                    f"cannot reach {service.name} at {service.url} ({exc.reason})",
                    hint=f"check the network or {service.setting}",
                ) from None
            wait = backoff * 2 ** (tries - 1)
        else:
            if status not in RETRY_STATUSES or tries > retries:
                return Answer(status, body, answer_headers, tries)
            asked = retry_after(answer_headers.get("Retry-After"))
            wait = asked if asked is not None else backoff * 2 ** (tries - 1)
            if asked is not None and asked > deadline.remaining():
                raise RemoteRefused(
                    service.name,
                    service.url,
                    status,
                    f"{service.name} answered HTTP {status} and asks to wait {asked:g} s, "
                    f"more than is left of the {deadline.seconds:g} s allowed",
                    hint="try again later or pass a larger --timeout",
                )
        if wait >= deadline.remaining():
            raise _timeout(service, deadline)
        time.sleep(max(wait, 0.0))


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"\d{1,10}", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    seconds = when.timestamp() - time.time()
    return max(seconds, 0.0) if math.isfinite(seconds) else None


class _Unreachable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _timeout(service: Service, deadline: Deadline) -> RemoteTimeout:
    return RemoteTimeout(
        service.name,
        service.url,
        deadline.seconds,
        f"{service.name} did not answer within {deadline.seconds:g} s ({service.url})",
        hint="try again later or pass a larger --timeout",
    )


def _once(
    service: Service,
    url: str,
    deadline: Deadline,
    max_bytes: int,
    params: Mapping[str, Any] | None,
    headers: Mapping[str, str] | None,
) -> tuple[int, bytes, Mapping[str, str]]:
    try:
        import requests
    except ImportError:
        raise KbError(
            "downloading needs the arxiv extra (requests is not installed)", hint="pip install -e '.[arxiv]'"
        ) from None

    outcome: dict[str, Any] = {}
    stop = threading.Event()

    def work() -> None:
        # Its own session: an abandoned worker may still be reading when the caller has moved on.
        try:
            remaining = max(deadline.remaining(), 0.001)
            with (
                requests.Session() as session,
                session.get(
                    url, params=params, headers=headers, stream=True, timeout=(remaining, remaining)
                ) as response,
            ):
                declared = response.headers.get("Content-Length", "").strip()
                if declared.isdigit() and int(declared) > max_bytes:
                    outcome["too_large"] = int(declared)
                    return
                body = bytearray()
                for chunk in response.iter_content(CHUNK):
                    if stop.is_set():
                        return
                    body += chunk
                    if len(body) > max_bytes:
                        outcome["too_large"] = len(body)
                        return
                outcome["answer"] = (response.status_code, bytes(body), dict(response.headers))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread, which decides
            outcome["error"] = exc

    worker = threading.Thread(target=work, name=f"kb-download-{service.name}", daemon=True)
    worker.start()
    worker.join(max(deadline.remaining(), 0.0))
    if worker.is_alive():
        stop.set()  # the worker ends at its next chunk, or when the server closes; nobody waits for it
        raise _timeout(service, deadline)
    if "too_large" in outcome:
        raise RemoteAnswerInvalid(
            service.name,
            service.url,
            f"{service.name} sent an answer larger than {max_bytes:,} bytes "
            f"({outcome['too_large']:,} or more); not using it",
        )
    error = outcome.get("error")
    if error is not None:
        if isinstance(error, requests.exceptions.Timeout):
            raise _timeout(service, deadline)
        if isinstance(error, requests.exceptions.ConnectionError):
            raise _Unreachable(_reason(error))
        if isinstance(error, requests.exceptions.RequestException):
            raise RemoteError(
                service.name, service.url, f"the request to {service.name} at {service.url} failed: {_reason(error)}"
            )
        raise error
    status, body, answer_headers = outcome["answer"]
    return int(status), body, answer_headers


def _reason(exc: BaseException) -> str:
    # requests nests the socket error several levels deep; the innermost message is the useful one.
    inner: BaseException = exc
    while inner.args and isinstance(inner.args[0], BaseException):
        inner = inner.args[0]
    reason = getattr(inner, "reason", None)
    text = str(reason or inner)
    return re.sub(r"^<[^>]+>: ", "", text)[:200]
