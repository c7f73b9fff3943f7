"""Embeddings cache, related papers, suggestions, discovery and the evaluation needs."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import yaml

from kb.artefacts import Inputs
from kb.loader import load
from kb.project import Project
from kb.search.document import document_text
from kb.search.ranking import Searcher
from kb.search.related import related, related_all
from kb.search.store import ensure_index
from kb.search.suggest import Suggestion, suggest
from kb.search.transformer import EmbeddingCache

DATA = Path(__file__).parent / "data"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "corpus"


def test_changing_one_record_embeds_one_text_and_a_bad_cache_is_rebuilt(search_root: Path) -> None:
    project = Project(search_root)
    kb = load(project)
    texts = [document_text(r, kb.taxonomy) for r in kb]
    folder = search_root / "build" / "search" / "embeddings"
    cache = EmbeddingCache(folder)
    before = cache.embed(texts)
    assert cache.computed == 0 and before.shape == (5, 384)
    texts[0] += " One more sentence about zebrafish."
    after = cache.embed(texts)
    assert cache.computed == 1
    assert (after[1:] == before[1:]).all() and not (after[0] == before[0]).all()
    data = (folder / "vectors.npy").read_bytes()
    (folder / "vectors.npy").write_bytes(data[: len(data) // 2])  # truncated
    damaged = EmbeddingCache(folder)
    assert damaged.discarded and damaged.vectors == {}
    again = damaged.embed(texts)
    assert damaged.computed == 5 and abs(again - after).max() < 1e-5
    assert not EmbeddingCache(folder).discarded


def test_related_papers(search_root: Path, run_kb) -> None:
    index = ensure_index(Inputs(Project(search_root)))
    table = related_all(index, k=2)
    assert set(table) == {"2305.10355", "2311.16922", "2410.04819", "2412.02104", "toy-attention-probe"}
    assert all(len(v) == 2 and paper not in dict(v) for paper, v in table.items())
    # The two hallucination papers are each other's nearest.
    assert table["2311.16922"][0][0] == "2305.10355"
    assert related(index, "arXiv:2311.16922v3", 1) == table["2311.16922"][:1]
    out = run_kb("related", "2311.16922", "--json", "-k", "1", cwd=search_root)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["id"] == "2305.10355"
    missing = run_kb("related", "2311.16923", cwd=search_root)
    assert missing.returncode == 1 and "no record '2311.16923'" in missing.stderr


def test_suggest_on_the_toy_knowledge_base(search_root: Path, run_kb) -> None:
    inputs = Inputs(Project(search_root))
    result = suggest(Searcher.open(inputs), inputs.kb, "Finding neurons specific to each modality in multimodal LLMs",
                     "We locate neurons in Qwen2-VL that respond only to images or only to audio and ablate them.")
    assert isinstance(result, Suggestion)
    assert result.areas[0][0] == "model.neuron"
    assert set(result.facets) == {"granularity", "modality", "contribution", "method_family", "model"}
    assert result.facets["model"][0] == ("Qwen2-VL", 1.0)
    assert all(0 <= s <= 1 for _, s in result.areas)
    out = run_kb("suggest", "--title", "A benchmark of object hallucination", "--abstract",
                 "Polling questions about objects in images, for LLaVA v1.5.", "--json", cwd=search_root)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["areas"][0][0] == "data.benchmarks"
    assert ["LLaVA-1.5", 1.0] in data["facets"]["model"]


def test_discover_ranks_relevant_new_papers_first(search_root: Path, run_kb, tmp_path: Path) -> None:
    rows = [
        {"arxiv_id": "2305.10355v2", "title": "Evaluating Object Hallucination in Large Vision-Language Models",
         "abstract": "Object hallucination evaluation of large vision-language models with polling questions."},
        {"arxiv_id": "2501.00001", "title": "Neurons that respond to one modality in multimodal LLMs",
         "abstract": "We find modality-specific neurons in vision-language models and study hallucination of objects."},
        {"arxiv_id": "2501.00002", "title": "Quantum Boltzmann machines", "abstract": "A transverse-field Ising model for sampling."},
        {"arxiv_id": "2501.00003", "title": "Crop yield forecasting from weather records", "abstract": "Regression on rainfall."},
    ]
    bulk = tmp_path / "bulk.jsonl.gz"
    with gzip.open(bulk, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in rows)
    out = run_kb("discover", str(bulk), "--json", cwd=search_root)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert [c["id"] for c in found][0] == "2501.00001"  # the known paper is left out, the relevant one leads
    assert "2305.10355v2" not in [c["id"] for c in found]
    assert found[0]["area"] == "model.neuron"
    # A paper read and judged out of scope is not shown again.
    (search_root / "curation").mkdir()
    (search_root / "curation" / "excluded.yaml").write_text(
        "- {id: '2501.00001', title: Neurons that respond to one modality in multimodal LLMs, reason: a test exclusion}\n")
    again = json.loads(run_kb("discover", str(bulk), "--json", cwd=search_root).stdout)
    assert "2501.00001" not in [c["id"] for c in again] and len(again) == len(found) - 1
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(rows[1]) + "\n{not json\n")
    out = run_kb("discover", str(broken), cwd=search_root)
    assert out.returncode == 1 and "broken.jsonl:2" in out.stderr


def test_evaluation_needs_are_well_formed() -> None:
    needs = yaml.safe_load((DATA / "needs.yaml").read_text())
    heldout = yaml.safe_load((DATA / "heldout.yaml").read_text())
    assert len(needs) >= 30 and len(heldout) >= 10
    queries = [n["query"] for n in needs + heldout]
    assert len(set(queries)) == len(queries)
    known: set[str] = set()
    for name in ("candidates.jsonl", "foundations.jsonl"):
        if (SHARED / name).is_file():
            known |= {json.loads(line)["arxiv_id"] for line in (SHARED / name).read_text().splitlines()}
    for need in needs + heldout:
        assert need["relevant"] and len(set(need["relevant"])) == len(need["relevant"])
        if known:
            assert set(need["relevant"]) <= known, need["query"]


def test_an_empty_knowledge_base_answers_nothing_without_failing(search_root: Path, run_kb) -> None:
    for path in (search_root / "papers").glob("*.yaml"):
        path.unlink()
    out = run_kb("search", "neurons", "--json", cwd=search_root)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []
    inputs = Inputs(Project(search_root))
    result = suggest(Searcher.open(inputs), inputs.kb, "A neuron paper", "")
    assert result.areas == [] and result.facets["method_family"] == []


def test_the_indexed_static_vectors_are_what_the_written_model_encodes(search_root: Path) -> None:
    """The index takes the documents' static vectors from the weighing pass (`kb.search.static.weigh`), which
    tokenises them once with the full vocabulary: they must be what the pruned model on disk, the one queries
    and the browser use, makes of the same texts."""
    import numpy as np

    from kb.search.store import build_index

    index = build_index(Inputs(Project(search_root)))
    texts = [d.text for d in index.documents]
    assert np.array_equal(index.static.vectors(), index.encoder.encode(texts))


def test_cached_token_ids_weigh_the_model_exactly_as_tokenising_again(search_root: Path, tmp_path: Path) -> None:
    """`kb.search.token_cache`: a rebuild tokenises only new or changed texts, and the weighed model and the
    documents' vectors are bit for bit what tokenising every text gives; a cache of another model is not read."""
    import numpy as np

    from kb.artefacts import Artefacts
    from kb.search.static import base_vectors, source_hash, weigh
    from kb.search.token_cache import TokenCache

    project = Project(search_root)
    kb = load(project)
    texts = [document_text(r, kb.taxonomy) for r in kb]
    base = base_vectors(Artefacts(project).search_base)
    folder = tmp_path / "tokens"
    weigh(base, texts, TokenCache(folder, source_hash()))
    texts[0] += " One more sentence about zebrafish."
    cache = TokenCache(folder, source_hash())
    assert len(cache.ids) == len(texts)
    files, vectors = weigh(base, texts, cache)
    plain_files, plain = weigh(base, texts)
    assert np.array_equal(vectors, plain)
    assert files["tokenizer.json"] == plain_files["tokenizer.json"]
    assert len(TokenCache(folder, source_hash()).ids) == len(texts), "the edited text's old tokens are gone"
    assert TokenCache(folder, "another model").ids == {}
