"""Facet filter options that follow the knowledge base's facet registry.

`kb list` and `kb search` take one option per declared facet (`--modality image`, `--method-family probing`,
`--model "LLaVA 1.5"`). The options are made when the command line is parsed, from the registry of the
knowledge base the command runs on (taxonomy/facets.yaml, read without the records), so a facet declared
there is a filter at once, with no code change.
"""

from __future__ import annotations

from typing import Any

import click

from kb.cli import Command

PREFIX = "facet__"


class FacetCommand(Command):
    """A command with one filter option per declared facet, placed before --help."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        taken = {name for p in params for name in p.opts}
        extra = []
        for key, option, label in _declared(ctx):
            if option in taken:
                continue
            extra.append(
                click.Option(
                    [option, PREFIX + key],
                    metavar="VALUE",
                    help=f"Only papers with this {label.casefold()} (id, name or alias).",
                )
            )
        help_option = [p for p in params if p.name == "help"]
        return [p for p in params if p.name != "help"] + extra + help_option


def facet_values(kwargs: dict[str, Any]) -> dict[str, str]:
    """The facet filters given on the command line (key -> value as typed), taken out of `kwargs`."""
    out = {}
    for name in [n for n in kwargs if n.startswith(PREFIX)]:
        value = kwargs.pop(name)
        if value is not None:
            out[name.removeprefix(PREFIX)] = value
    return out


def _declared(ctx: click.Context) -> list[tuple[str, str, str]]:
    """(key, option, label) of every facet of the knowledge base; none when there is no readable one (so
    that `--help` works anywhere; the command itself then reports what is wrong)."""
    cached = ctx.meta.get("kb.facets")
    if cached is None:
        from kb.cli import project_of
        from kb.errors import KbError
        from kb.taxonomy import load_taxonomy

        try:
            project = project_of(ctx)
        except KbError:
            cached = []  # not inside a knowledge base: the command says so when it runs
        else:
            cached = [(f.key, f.option, f.label) for f in load_taxonomy(project.taxonomy_dir, project.root).registry]
        ctx.meta["kb.facets"] = cached
    return cached
