"""Jobs that `kb site build` runs in a forked child while it generates the site: embedding the new or changed
texts, then the database.

Why: the generation keeps one core busy and the machine has two. Importing torch and embedding one changed
text costs seconds that would otherwise sit in front of the search index, and the database costs seconds
that the site does not wait for. The jobs run one after another in one child, not in a child each, so
the two cores are never shared by three busy processes (measured: three were slower than doing the work
in turn).

The child lets go of the caller's terminal and pipes first (`kb site build | head` must not wait for it)
and reports each job's outcome as it ends; a failed job does not stop the next one. `wait(name)` returns
once that job has ended and raises its failure in the caller. An expected failure (`KbError`) keeps its
message and hint; KbError subclasses take other constructor arguments and do not survive pickling. A bug
brings its traceback. The child exits after its last job, so a killed build leaves nothing running for
long. Where fork is not available, or there is one core, the jobs run at once in the caller.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from kb.errors import KbError

Job = tuple[str, Callable[[], object]]
Outcome = tuple[str, str, str | None] | None  # None, or (kind: "expected" or "bug", message, hint)

_jobs: Sequence[Job] = ()  # what the forked child runs (inherited, not pickled)


def _run(send: Any) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    for name, job in _jobs:
        send.send((name, _outcome(job)))


def _outcome(job: Callable[[], object]) -> Outcome:
    import traceback

    try:
        job()
    except KbError as exc:
        return ("expected", exc.message, exc.hint)
    except Exception:  # noqa: BLE001 - a bug: its traceback goes to the caller, which raises it
        return ("bug", traceback.format_exc(), None)
    return None


class Background:
    def __init__(self, jobs: Sequence[Job]) -> None:
        global _jobs  # noqa: PLW0603 - handed to the forked child, which inherits it
        self._names = [name for name, _ in jobs]
        self._outcomes: dict[str, Outcome] = {}
        self._process: Any = None
        self._receive: Any = None
        if "fork" not in multiprocessing.get_all_start_methods() or (os.cpu_count() or 1) < 2:
            for name, job in jobs:
                self._outcomes[name] = _outcome(job)
            return
        _jobs = jobs
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        # Forked before torch or faiss start threads in the caller: the child starts from plain Python.
        self._process = context.Process(target=_run, args=(send,), name="kb-site-background", daemon=True)
        self._process.start()
        send.close()
        _jobs = ()

    def ended(self, name: str, timeout: float = 0.0) -> bool:
        """Whether the job `name` has ended, waiting up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        while name not in self._outcomes:
            if not self._receive.poll(max(0.0, deadline - time.monotonic())):
                return False
            self._take()
        return True

    def wait(self, name: str) -> None:
        """Return once the job `name` has ended; raise its failure."""
        while name not in self._outcomes:
            self._take()
        if len(self._outcomes) == len(self._names) and self._process is not None:
            self._process.join()
            self._process = None
        outcome = self._outcomes[name]
        if outcome is not None:
            kind, message, hint = outcome
            if kind == "expected":
                raise KbError(message, hint=hint)
            raise RuntimeError(f"the {name} job failed:\n{message}")

    def _take(self) -> None:
        """The next outcome from the child (blocking); all jobs still pending fail when the child is gone."""
        try:
            done, outcome = self._receive.recv()
        except EOFError:  # the child died without a word (killed, out of memory)
            self._process.join()
            code = self._process.exitcode
            for pending in self._names:
                self._outcomes.setdefault(pending, ("bug", f"the {pending} job stopped (exit code {code})", None))
            return
        self._outcomes[done] = outcome

    def __enter__(self) -> Background:
        return self

    def __exit__(self, *exc: object) -> None:
        # On an error elsewhere the child is stopped: what it writes is replaced atomically, so a stopped job
        # leaves the old file.
        if self._process is not None:
            self._process.terminate()
            self._process.join()
        if self._receive is not None:
            self._receive.close()
