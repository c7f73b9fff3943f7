"""Search over the toy knowledge base: the CLI, filters, odd queries, and an index that never goes stale."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kb.artefacts import Artefacts, Inputs
from kb.project import Project
from kb.search.ranking import Filters, Searcher
from kb.years import parse_years


def searcher_for(root: Path) -> Searcher:
    return Searcher.open(Inputs(Project(root)))


def ids(result: str) -> list[str]:
    return [hit["id"] for hit in json.loads(result)]


def test_search_json_puts_the_matching_paper_first(search_root: Path, run_kb) -> None:
    out = run_kb("search", "which methods find neurons that fire only for one modality", "--json", cwd=search_root)
    assert out.returncode == 0, out.stderr
    hits = json.loads(out.stdout)
    assert hits[0]["id"] == "2410.04819"
    assert {"id", "title", "score"} <= set(hits[0])
    assert hits[0]["score"] >= hits[-1]["score"]


def test_model_alias_and_taxonomy_words_are_searchable(search_root: Path) -> None:
    searcher = searcher_for(search_root)
    assert searcher.search("LLaVA v1.5", k=1)[0].id == "toy-attention-probe"
    # 'Neuron level' is an area name that no toy summary uses in those words.
    assert searcher.search("neuron level", k=1)[0].id == "2410.04819"


def test_filters_keep_only_matching_papers(search_root: Path, run_kb) -> None:
    out = run_kb("search", "hallucination", "--json", "--area", "model", cwd=search_root)
    assert out.returncode == 0, out.stderr
    assert set(ids(out.stdout)) <= {"2410.04819", "toy-attention-probe"}
    out = run_kb("search", "hallucination", "--json", "--year", "2023", cwd=search_root)
    assert set(ids(out.stdout)) == {"2305.10355", "2311.16922"}
    out = run_kb("search", "hallucination", "--json", "--contribution", "benchmark", "-k", "3", cwd=search_root)
    assert ids(out.stdout) == ["2305.10355"]
    searcher = searcher_for(search_root)
    audio = [h.id for h in searcher.search("neurons", filters=Filters(facets={"modality": "audio"}))]
    assert audio[0] == "2410.04819" and set(audio) <= {"2410.04819", "2412.02104"}  # the two with audio


@pytest.mark.parametrize(("args", "message", "status"), [
    (["--area", "model.neurons"], "did you mean 'model.neuron'", 1),
    # A malformed option value is a usage error: click's status 2, as for `kb list`.
    (["--year", "2025..2020"], "the range is empty", 2),
    (["--year", "last year"], "not a year", 2),
    (["--modality", "smell"], "unknown modality 'smell'", 1),
])
def test_bad_filters_get_a_clear_message(search_root: Path, run_kb, args: list[str], message: str, status: int) -> None:
    out = run_kb("search", "neurons", *args, cwd=search_root)
    assert out.returncode == status
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_odd_queries_behave(search_root: Path, run_kb) -> None:
    empty = run_kb("search", "   ", cwd=search_root)
    assert empty.returncode == 1 and "nothing to search for" in empty.stderr
    emoji = run_kb("search", "🙂🔥", "--json", cwd=search_root)
    assert emoji.returncode == 0 and json.loads(emoji.stdout) == []
    searcher = searcher_for(search_root)
    # The relevance floor: a query whose words the papers do not hold gets no answer rather than loose matches
    # in meaning, which other languages pay for (shared words still carry them: "hallucination" below).
    assert searcher.search("neurone spécifiques à une modalité dans les modèles multimodaux") == []
    # A word no paper uses weighs as much as the rarest word, so it cannot be left unanswered in silence.
    assert searcher.search("幻觉 hallucination") == []
    assert searcher.search("幻觉 hallucination benchmark object")[0].id == "2305.10355"
    long = " ".join(["object hallucination benchmark"] * 3000)
    assert searcher.search(long, k=2)[0].id == "2305.10355"


def test_parse_years() -> None:
    assert parse_years("2024") == (2024, 2024)
    assert parse_years("2022..2024") == (2022, 2024)
    assert parse_years("2023..") == (2023, None)
    assert parse_years("..2023") == (None, 2023)
    for bad in ("", "..", "2025..2023", "24", "2023-2024", "2023 2024"):
        with pytest.raises(ValueError):
            parse_years(bad)


def test_a_changed_record_is_searched_as_it_is_now(search_root: Path) -> None:
    project = Project(search_root)
    assert searcher_for(search_root).search("zebrafish", k=1, ranker="bm25") == []
    path = search_root / "papers" / "2305.10355.yaml"
    path.write_text(path.read_text().replace("title: Evaluating Object", "title: Zebrafish Evaluating Object"))
    assert [h.id for h in searcher_for(search_root).search("zebrafish", k=1, ranker="bm25")] == ["2305.10355"]
    hits = searcher_for(search_root).search("zebrafish", k=1)
    assert [h.id for h in hits] == ["2305.10355"]
    assert hits[0].title.startswith("Zebrafish")


def test_corrupt_or_truncated_index_files_are_rebuilt(search_root: Path) -> None:
    project = Project(search_root)
    expected = [h.id for h in searcher_for(search_root).search("visual contrastive decoding")]
    folder = Artefacts(project).search_index
    faiss_file = folder / "static.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    assert [h.id for h in searcher_for(search_root).search("visual contrastive decoding")] == expected
    (folder / "documents.json").write_text('{"documents": [')
    assert [h.id for h in searcher_for(search_root).search("visual contrastive decoding")] == expected
    (folder / "manifest.json").write_text('{"format": 1, "kind": "search-index", "files": ')
    assert [h.id for h in searcher_for(search_root).search("visual contrastive decoding")] == expected
    documents = json.loads((folder / "documents.json").read_text())["documents"]
    assert len(documents) == 5


def test_static_model_follows_the_documented_recipe(search_root: Path) -> None:
    """Re-implement the docstring's recipe (what the browser does) and compare with encode_static."""
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    from kb.search.store import ensure_index

    index = ensure_index(Inputs(Project(search_root)))
    folder = index.folder
    config = json.loads((folder / "config.json").read_text())
    assert config["normalize"] is True
    matrix = load_file(str(folder / "model.safetensors"))["embeddings"]
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    text = "Which neurons respond to images in LLaVA?"
    token_ids = tokenizer.encode(text).ids  # tokenizer.json adds no [CLS]/[SEP]
    assert len(token_ids) == len(tokenizer.encode(text, add_special_tokens=False).ids)
    by_hand = matrix[token_ids].mean(axis=0)
    by_hand /= np.linalg.norm(by_hand)
    vectors = index.encoder.encode([text, "🙂", ""])
    assert np.allclose(vectors[0], by_hand, atol=1e-5)
    assert not vectors[1].any() and not vectors[2].any()
    assert not matrix[tokenizer.token_to_id("[CLS]")].any()


def test_a_cold_search_on_a_current_index_never_imports_torch(search_root: Path) -> None:
    import subprocess
    import sys

    code = ("import sys; from kb.artefacts import Inputs; from kb.project import Project; from kb.search.ranking import Searcher; "
            "hits = Searcher.open(Inputs(Project.find())).search('neurons for one modality'); "
            "assert hits and 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules, sorted(sys.modules)[:5]; "
            "import kb.cli; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], cwd=search_root, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_exact_matches_on_id_title_acronym_and_author_come_first(search_root: Path, run_kb) -> None:
    searcher = searcher_for(search_root)
    cases = {
        "2311.16922": ("2311.16922", "arXiv id"), "arXiv:2410.04819v2": ("2410.04819", "arXiv id"),
        "https://arxiv.org/abs/2305.10355": ("2305.10355", "arXiv id"),
        "MINER": ("2410.04819", "title"),  # the short name before the title's colon
        "evaluating object hallucination in large vision-language models": ("2305.10355", "title"),
        "VCD": ("2311.16922", "acronym"),  # Visual Contrastive Decoding, spelled by the title's capitalised words
        "Sicong Leng": ("2311.16922", "author"), "leng": ("2311.16922", "author"),
    }
    for query, (paper, kind) in cases.items():
        hits = searcher.search(query, k=3)
        assert (hits[0].id, hits[0].match) == (paper, kind), query
        assert all(h.match == "" for h in hits[1:]), query
    # A given name alone is not an author match (it would name everyone called Xin).
    assert all(h.match != "author" for h in searcher.search("Xin", k=5))
    out = run_kb("search", "Sicong Leng", "--json", cwd=search_root)
    assert json.loads(out.stdout)[0] == {**json.loads(out.stdout)[0], "id": "2311.16922", "match": "author"}


def test_a_query_nothing_answers_gets_no_good_match(search_root: Path, run_kb) -> None:
    searcher = searcher_for(search_root)
    assert searcher.search("banana bread recipe") == []
    # ...although one paper uses "recipe" (MINER's "four-step recipe"), which the raw BM25 ranker returns.
    assert [h.id for h in searcher.search("banana bread recipe", ranker="bm25")] == ["2410.04819"]
    out = run_kb("search", "banana", "bread", "recipe", cwd=search_root)
    assert out.returncode == 0 and out.stdout == "" and "no good match" in out.stderr
    # A real question still answers, with only papers that hold some of its words.
    hits = searcher.search("object hallucination benchmark")
    assert hits and hits[0].id == "2305.10355"
    coverage = searcher.coverage("object hallucination benchmark")
    assert all(coverage[searcher.index.position[h.id]] >= 0.1 for h in hits)
