"""`kb refs`: citations from a recorded Semantic Scholar answer, kept only where both ends are records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kb import yamlfile
from kb.citations import updated_text, with_cites

# Facts from the shared corpus (foundations.jsonl); summaries and findings are our own words.
ROLLOUT = """\
id: '2005.00928'
title: Quantifying Attention Flow in Transformers
authors: [Samira Abnar, Willem Zuidema]
year: 2020
taxonomy: [foundations.methods]
modalities: [text]
contribution: method
summary: >-
  Treats the attention weights of every layer as a flow network and combines them across layers, by
  multiplying them or by computing maximum flow, to estimate how much each input token feeds an output.
findings:
  - Combined attention across layers tracks input importance better than raw attention of one layer.
"""
CHEFER = """\
id: '2012.09838'
title: Transformer Interpretability Beyond Attention Visualization
authors: [Hila Chefer, Shir Gur, Lior Wolf]
year: 2020
# REVIEW: a comment the contributor left must survive `kb refs`.
taxonomy: [foundations.methods]
modalities: [image, text]
contribution: method
summary: >-
  Propagates relevance through every layer of a transformer, including attention and skip connections,
  and weights it by attention gradients, to produce class-specific maps for vision and text transformers.
findings:
  - Class-specific relevance maps beat attention rollout and gradient maps on perturbation tests.
# A comment above the next key stays with it.
builds_on:
  - {id: '2005.00928', relation: compares-with}
"""


def _kb_with_chefer(root: Path) -> Path:
    (root / "papers" / "2005.00928.yaml").write_text(ROLLOUT, encoding="utf-8")
    path = root / "papers" / "2012.09838.yaml"
    path.write_text(CHEFER, encoding="utf-8")
    return path


def test_refs_adds_only_corpus_references(toy_root: Path, run_kb, recorded: Any) -> None:
    path = _kb_with_chefer(toy_root)
    recorded.s2("2012.09838", "s2-references-2012.09838.json")
    assert run_kb("validate", cwd=toy_root).returncode == 0

    result = run_kb("refs", "2012.09838", cwd=toy_root, env=recorded.env())
    assert result.returncode == 0, result.stderr
    assert "6 references listed, 5 with an arXiv id, 1 of them records here" in result.stderr
    assert "+cites:" in result.stdout and "+- '2005.00928'" in result.stdout
    assert "updated papers/2012.09838.yaml: cites 2005.00928 added" in result.stdout
    text = path.read_text(encoding="utf-8")
    data = yamlfile.parse(text).data
    assert data["cites"] == ["2005.00928"]  # Grad-CAM, ViT, BERT, the Transformer are not records here
    assert "# REVIEW: a comment the contributor left must survive" in text
    assert "# A comment above the next key stays with it.\nbuilds_on:" in text
    assert {k: v for k, v in data.items() if k != "cites"} == yamlfile.parse(CHEFER).data
    assert run_kb("validate", cwd=toy_root).returncode == 0
    assert "/graph/v1/paper/arXiv:2012.09838/references?fields=externalIds" in recorded.requests[0]

    again = run_kb("refs", "2012.09838", cwd=toy_root, env=recorded.env())
    assert again.returncode == 0 and "unchanged: papers/2012.09838.yaml" in again.stdout
    assert path.read_text(encoding="utf-8") == text


def test_refs_dry_run_writes_nothing(toy_root: Path, run_kb, recorded: Any) -> None:
    path = _kb_with_chefer(toy_root)
    recorded.s2("2012.09838", "s2-references-2012.09838.json")
    result = run_kb("refs", "--dry-run", "2012.09838", cwd=toy_root, env=recorded.env())
    assert result.returncode == 0 and "+- '2005.00928'" in result.stdout
    assert path.read_text(encoding="utf-8") == CHEFER


def test_refs_unknown_to_the_api(toy_root: Path, run_kb, recorded: Any) -> None:
    path = _kb_with_chefer(toy_root)
    result = run_kb("refs", "2012.09838", cwd=toy_root, env=recorded.env())
    assert result.returncode == 1
    assert "2012.09838: Semantic Scholar does not know this paper (Paper with id arXiv:2012.09838 not found); cites left unchanged" in result.stderr
    assert path.read_text(encoding="utf-8") == CHEFER


def test_refs_failures(toy_root: Path, run_kb, recorded: Any) -> None:
    path = _kb_with_chefer(toy_root)
    recorded.s2("2012.09838", "s2-references-2012.09838.json", status=429)
    limited = run_kb("refs", "2012.09838", cwd=toy_root, env=recorded.env())
    assert limited.returncode == 1 and "rate-limiting requests (HTTP 429)" in limited.stderr
    recorded.s2("2012.09838", "s2-references-2012.09838.json", delay=2.0)
    slow = run_kb("refs", "2012.09838", "--timeout", "0.5", cwd=toy_root, env=recorded.env())
    assert slow.returncode == 1 and "Semantic Scholar did not answer within 0.5 s" in slow.stderr
    down = run_kb("refs", "2012.09838", cwd=toy_root, env={"KB_CITATIONS_API_URL": "http://127.0.0.1:9/graph/v1"})
    assert down.returncode == 1 and "cannot reach Semantic Scholar at http://127.0.0.1:9/graph/v1" in down.stderr
    assert path.read_text(encoding="utf-8") == CHEFER
    missing = run_kb("refs", "2012.09839", cwd=toy_root, env=recorded.env())
    assert missing.returncode == 1 and "no record '2012.09839' in papers/" in missing.stderr
    slug = run_kb("refs", "toy-attention-probe", cwd=toy_root, env=recorded.env())
    assert slug.returncode == 1 and "has no arXiv id" in slug.stderr


def test_cites_block_is_replaced_in_place() -> None:
    text = "id: a\ncites:\n- '2305.10355'\n# about builds_on\nbuilds_on: []\n"
    assert with_cites(text, ["2305.10355", "2311.16922"]) == "id: a\ncites:\n- '2305.10355'\n- '2311.16922'\n# about builds_on\nbuilds_on: []\n"
    flow = "id: a\ncites: ['2305.10355']\nimplementation: kb.xai.x:y\n"
    assert yamlfile.parse(updated_text(flow, ["2305.10355", "2311.16922"])).data["cites"] == ["2305.10355", "2311.16922"]
    no_cites = "id: a\nfindings:\n  - one finding here\n"
    assert updated_text(no_cites, ["2311.16922"]).endswith("findings:\n  - one finding here\ncites:\n- '2311.16922'\n")
