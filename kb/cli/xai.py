"""Commands for the explainability methods: `kb xai list` and `kb xai bench`; torch is imported only inside them."""

from __future__ import annotations

import json

import click

from kb.cli import app, project_of
from kb.errors import KbError


@app.group()
def xai() -> None:
    """Reference implementations of MLLM explainability methods and their ground-truth benchmark."""


@xai.command("list")
def list_methods() -> None:
    """The implemented methods, the paper each comes from, and where the code lives."""
    from kb.xai.catalog import METHODS

    for method in METHODS:
        click.echo(f"{method.name:22} {method.paper_id:11} {method.implementation}")


@xai.command()
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@click.option("--rebuild", is_flag=True, help="Recompute even when build/xai/ holds a valid table.")
@click.pass_context
def bench(ctx: click.Context, as_json: bool, rebuild: bool) -> None:
    """Score every method against the toy task's known evidence (trains and caches the toy model in build/xai/)."""
    try:
        import matplotlib  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise KbError(f"kb xai bench needs the xai extra ({exc.name} is missing): pip install -e '.[xai]'") from exc
    from kb.xai.benchmark import METRICS, ensure_results

    results = ensure_results(project_of(ctx), rebuild=rebuild)
    if as_json:
        click.echo(json.dumps({"model": results["model"], "methods": results["methods"]}, indent=2))
        return
    model = results["model"]
    click.echo(f"toy model: accuracy {model['accuracy']:.3f}, with the evidence occluded {model['occluded_accuracy']:.3f} (chance {model['chance']:.3f})")
    header = ["method", "paper", *METRICS]
    click.echo("  ".join(f"{h:>14}" if i > 1 else f"{h:22}" if i == 0 else f"{h:11}" for i, h in enumerate(header)))
    for name, row in results["methods"].items():
        cells = [f"{'-' if row.get(m) is None else format(row[m], '.3f'):>14}" for m in METRICS]
        click.echo(f"{name:22}  {row.get('paper_id') or '-':11}  " + "  ".join(cells))
    click.echo("pointing game / relevance mass chance: 1/16 = 0.062; lower deletion and higher insertion AUC are better;")
    click.echo("randomisation similarity near 0 passes the sanity check.")
