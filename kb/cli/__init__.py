"""The `kb` command. The only place where errors become messages: no traceback reaches a user.

Each concept registers its commands from its own module (records, search, site, contribution, upkeep, xai);
those modules import heavy libraries inside the command bodies so that `kb validate` stays light.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from kb.errors import KbError, ValidationFailed
from kb.project import Project

DEBUG_ENV = "KB_DEBUG"


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ValidationFailed as exc:
            report_problems(exc)
            ctx.exit(1)
        except KbError as exc:
            click.echo(f"kb: {exc}", err=True)
            ctx.exit(1)
        except BrokenPipeError:
            # The reader (e.g. `| head`) went away: stop quietly, as Unix tools do.
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
            ctx.exit(0)
        except KeyboardInterrupt:
            click.echo("kb: interrupted", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:  # noqa: BLE001 - the promise is: no traceback for users
            if os.environ.get(DEBUG_ENV):
                raise
            click.echo(f"kb: internal error: {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for a traceback)", err=True)
            ctx.exit(2)


def report_problems(exc: ValidationFailed) -> None:
    for problem in exc.problems:
        click.echo(str(problem), err=True)
    files = len({p.path for p in exc.problems})
    click.echo(f"{len(exc.problems)} problem(s) in {files} file(s)", err=True)


def project_of(ctx: click.Context) -> Project:
    root: Path | None = ctx.find_root().params.get("root")
    return Project.find(root)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None, help="Knowledge base folder (default: the one containing the working directory).")
@click.version_option(package_name="mllm-xai-kb", prog_name="kb")
def app(root: Path | None) -> None:
    """The open knowledge base of MLLM explainability research."""


def _register() -> None:
    # Each module adds its commands to `app`; the imports are light by design.
    from kb.cli import contribution, records, search, site, upkeep, xai  # noqa: F401


_register()


def main() -> None:
    sys.exit(app.main(prog_name="kb", standalone_mode=True))
