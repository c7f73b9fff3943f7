"""The learned discovery model: trained on curation (records positive, triaged papers negative), stored as a
small reproducible file, used by `kb discover`; and, on the real reference data when it is there, as good as
the closing note says."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from kb.artefacts import Inputs
from kb.project import Project
from kb.search import relevance
from tests.conftest import REPO, SHARED_CORPUS


def test_training_writes_a_small_reproducible_model(curated_build: Path, tmp_path: Path, run_kb) -> None:
    stored = curated_build / relevance.MODEL_FILE
    data = json.loads(stored.read_text())
    info = data["info"]
    assert (info["positives"], info["negatives"], info["unlabelled"]) == (12, 12, 0)
    assert set(info["metrics"]) >= {"cv_roc_auc", "cv_precision_top50", "threshold_precision", "threshold_recall"}
    assert info["metrics"]["cv_roc_auc"] >= 0.9  # twelve clear cases each way
    assert "kb discover bulk.jsonl.gz --train" in info["regenerate"]
    assert 0 < data["threshold"] < 1 and len(data["weights"]) == len(data["mean"]) == len(data["scale"]) == 384 + 11
    assert data["features"].count("vector") == 384 and data["features"][-1] == "gate*triaged_mean"
    assert data["areas"]["leaves"]  # per-area classifiers for `kb suggest`
    again = tmp_path / "kb"
    shutil.copytree(curated_build, again)
    (again / relevance.MODEL_FILE).unlink()
    out = run_kb("discover", "bulk.jsonl.gz", "--train", cwd=again)
    assert out.returncode == 0, out.stderr
    assert "cross-validated ROC AUC" in out.stdout
    assert (again / relevance.MODEL_FILE).read_text() == stored.read_text()  # same inputs, same bytes


def test_discover_ranks_with_the_model(curated_root: Path, run_kb) -> None:
    rows = [
        {
            "arxiv_id": "2611.00011",
            "title": "Soil moisture from radar satellites",
            "abstract": "Regression on radar backscatter.",
        },
        {
            "arxiv_id": "2611.00012",
            "title": "Attention to visual tokens explains hallucination in vision-language models",
            "abstract": "We trace hallucinated objects in multimodal LLMs to attention heads that ignore image tokens.",
        },
        {
            "arxiv_id": "2611.00013",
            "title": "Quantum annealing for scheduling",
            "abstract": "An annealer schedules jobs.",
        },
        {
            "arxiv_id": "2501.00201",
            "title": "Graph neural networks for traffic forecasting",
            "abstract": "Triaged already.",
        },
    ]
    bulk = curated_root / "new.jsonl.gz"
    with gzip.open(bulk, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in rows)
    out = run_kb("discover", str(bulk), "--json", cwd=curated_root)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert [c["id"] for c in found][0] == "2611.00012" and found[0]["score"] > 0.5 > found[-1]["score"]
    assert "2501.00201" not in [c["id"] for c in found]  # triaged: not shown again
    (curated_root / relevance.MODEL_FILE).write_text('{"format": 1, "weights": "nonsense"}')
    broken = run_kb("discover", str(bulk), cwd=curated_root)
    assert (
        broken.returncode == 1
        and "kb: " in broken.stderr
        and "retrain it with `kb discover FILE --train`" in broken.stderr
    )


@pytest.mark.shared
def test_the_committed_model_on_the_reference_data() -> None:
    bulk = SHARED_CORPUS / "arxiv-llm-papers.jsonl.gz"
    if not bulk.is_file():
        pytest.skip("the reference data (../shared/corpus) is not here")
    from sklearn.metrics import roc_auc_score

    from kb.search.bulk import plain_id, read_bulk

    inputs = Inputs(Project(REPO))
    model = relevance.RelevanceModel.read(REPO / relevance.MODEL_FILE)
    assert model is not None and model.info["metrics"]["cv_roc_auc"] >= 0.90
    kb = inputs.kb
    papers = [
        relevance.Paper(plain_id(i), t, a)
        for i, t, a in read_bulk(bulk)
        if plain_id(i) in kb.records or plain_id(i) in kb.triage
    ]
    scores = relevance.Scorer(inputs, model).scores(papers)
    labels = [p.id in kb.records for p in papers]
    assert roc_auc_score(labels, scores) >= 0.90
