"""The `kb` command. The only place where errors become messages: no traceback reaches a user.

Every message is one line, escaped (`kb.text.printable`), so nothing read from a file, a server or the
command line can forge output lines or drive the terminal. Exit codes: 0 done, 1 a problem the user can
fix (invalid input, a failed download, a full disk), 2 a usage error or an internal error, 130 interrupted,
141 the reader of the output went away before everything was written (as a Unix tool killed by SIGPIPE).

Each concept registers its commands from its own module (records, search, site, contribution, upkeep, xai);
those modules import heavy libraries inside the command bodies so that `kb validate` stays light.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from kb.errors import KbError, ValidationFailed, WriteFailed
from kb.project import Project
from kb.text import printable

DEBUG_ENV = "KB_DEBUG"
EXIT_BROKEN_PIPE = 141
# Errors of the file system that a user can act on; anything else unexpected is an internal error.
_USER_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EMFILE, errno.ENFILE}


class Command(click.Command):
    """Every `kb` command: arguments are checked for undecodable bytes before the command runs."""

    def invoke(self, ctx: click.Context) -> Any:
        _refuse_undecodable(self, ctx)
        return super().invoke(ctx)


class _Group(click.Group):
    command_class = Command
    group_class = type  # sub-groups (`kb site`) are _Groups too, so their commands are Commands

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """click's own messages (a bad option value, an unknown option) quote what was typed: escape them too."""
        run: Any = super().main  # click types main's overloads by standalone_mode's literal value
        if not standalone_mode:
            return run(*args, standalone_mode=False, **kwargs)
        try:
            result = run(*args, standalone_mode=False, **kwargs)
        except click.ClickException as exc:
            exc.message = printable(exc.message)  # type: ignore[misc]  # final in click's stubs, set in its own code
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            say("aborted")
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        if ctx.parent is not None:  # only the top-level group renders errors
            return super().invoke(ctx)
        try:
            return super().invoke(ctx)
        except ValidationFailed as exc:
            report_problems(exc)
            ctx.exit(1)
        except KbError as exc:
            say(exc.message, exc.hint)
            ctx.exit(1)
        except BrokenPipeError:
            # The reader (e.g. `| head`) went away before everything was written: stop, report failure
            # through the exit status as a process killed by SIGPIPE would, and print nothing more.
            _silence()
            ctx.exit(EXIT_BROKEN_PIPE)
        except KeyboardInterrupt:
            say("interrupted")
            ctx.exit(130)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except OSError as exc:
            if exc.errno not in _USER_ERRNOS or os.environ.get(DEBUG_ENV):
                raise _internal(ctx, exc) from exc
            failed = WriteFailed(exc.filename or "a file", exc)
            say(failed.message, failed.hint)
            ctx.exit(1)
        except Exception as exc:
            raise _internal(ctx, exc) from exc


def _internal(ctx: click.Context, exc: Exception) -> BaseException:
    if os.environ.get(DEBUG_ENV):
        return exc
    say(f"internal error: {type(exc).__name__}: {exc}", f"set {DEBUG_ENV}=1 for a traceback")
    return click.exceptions.Exit(2)


def say(message: str, hint: str | None = None) -> None:
    """One line on standard error, escaped, with the hint after a semicolon."""
    try:
        click.echo(f"kb: {printable(message)}" + (f"; {printable(hint)}" if hint else ""), err=True)
    except BrokenPipeError:
        _silence()


def _silence() -> None:
    devnull = open(os.devnull, "w")  # noqa: SIM115 - lives until exit, so the final flush cannot fail
    sys.stdout = sys.stderr = devnull


def report_problems(exc: ValidationFailed) -> None:
    for problem in exc.problems:
        click.echo(str(problem), err=True)
    files = len({p.path for p in exc.problems})
    click.echo(f"{len(exc.problems)} problem(s) in {files} file(s)", err=True)


def _refuse_undecodable(command: click.Command, ctx: click.Context) -> None:
    """Text given on the command line must be UTF-8. Python hands undecodable bytes on as lone surrogates
    (PEP 383), which would crash the first library that encodes them; a path may hold any bytes, so
    path arguments pass as they are."""
    for param in command.get_params(ctx):
        if isinstance(param.type, click.Path):
            continue
        value = ctx.params.get(param.name or "")
        values = value if isinstance(value, tuple) else (value,)
        for item in values:
            if isinstance(item, str) and any("\udc80" <= c <= "\udcff" for c in item):
                raw = item.encode("utf-8", "surrogateescape")
                shown = printable(raw.decode("utf-8", "backslashreplace"))
                raise click.BadParameter(
                    f"'{shown}' is not valid UTF-8; check the terminal's encoding", ctx=ctx, param=param
                )


def project_of(ctx: click.Context) -> Project:
    root: Path | None = ctx.find_root().params.get("root")
    return Project.find(root)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Knowledge base folder (default: the one containing the working directory).",
)
@click.version_option(package_name="mllm-xai-kb", prog_name="kb")
def app(root: Path | None) -> None:
    """The open knowledge base of MLLM explainability research."""
    # Libraries used by commands log what kb turns into messages itself; only the CLI sets log levels.
    logging.getLogger("arxiv").setLevel(logging.ERROR)
    logging.getLogger("mkdocs").setLevel(logging.WARNING)


def _register() -> None:
    # Each module adds its commands to `app`; the imports are light by design.
    from kb.cli import contribution, records, search, site, upkeep, xai  # noqa: F401


_register()


def main() -> None:
    sys.exit(app.main(prog_name="kb", standalone_mode=True))
