"""The learned relevance model behind `kb discover` and `kb watch`: trained on curation itself.

Every record is a positive example and every entry of the triage file (curation/excluded.yaml) a negative
one. Training reads their own title and abstract from a bulk arXiv file (the records and triaged papers
found in it), so it learns from the same kind of text it later scores: arXiv titles and abstracts.

Features of a paper, all cheap at query time (no torch):
- its static vector (`kb.search.static.base_encoder`: the distilled rows without record weighting, which do
  not change when records change, so a stored model stays valid);
- a naive-Bayes log-odds of its stemmed words, records against triaged papers (the word table is stored);
- its cosine to the nearest records (their indexed text) and to the nearest triaged papers (their titles),
  best and mean of the NEIGHBOURS best, found with faiss. These references are read at query time, so each
  newly curated paper counts at once, before any retraining.
A logistic regression on the standardised features gives the probability that the paper belongs.

The model is one small JSON file (MODEL_FILE, committed) with the word table, the weights, the scaling, the
training counts, the cross-validated metrics and the command that regenerates it. Training is
deterministic (fixed folds, a deterministic solver), so the same inputs give the same file.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb import atomic
from kb.artefacts import Inputs
from kb.errors import KbError

if TYPE_CHECKING:
    import numpy as np

    from kb.knowledge_base import KnowledgeBase
    from kb.search.static import StaticEncoder

MODEL_FILE = "curation/discovery-model.json"
FORMAT = 1
NEIGHBOURS = 5
# Strong regularisation: 384 vector weights learnt from a few thousand papers overfit quickly.
REGULARISATION = 0.01
MIN_WORD_COUNT = 3  # words seen in fewer labelled papers carry noise, not evidence
NB_PRIOR = 1.0
FOLDS = 10
INNER_FOLDS = 5
MAX_TEXT = 4000
NEIGHBOUR_FEATURES = ("records_best", "records_mean", "triaged_best", "triaged_mean")
# The bulk file's other papers count as negatives with this weight (positive-unlabelled learning): triaged papers
# are near misses, nearly all multimodal, so without the rest of the file the model would never learn that a
# text-only LLM paper on hallucination is out of scope. A few unread relevant papers among them are the price.
UNLABELLED_WEIGHT = 0.5
# The scope is explanation AND multimodal models, an AND a linear model cannot express from word weights alone;
# a gate (does the text name a non-text modality or a multimodal model?) and its products with the topical
# features let it. Words from the taxonomy's vocabulary: modalities, "vision-language", model families.
GATE_WORDS = (
    "multimodal",
    "multi-modal",
    "vision",
    "visual",
    "visually",
    "image",
    "images",
    "video",
    "videos",
    "audio",
    "speech",
    "vlm",
    "vlms",
    "mllm",
    "mllms",
    "lvlm",
    "lvlms",
    "lmm",
    "lmms",
    "clip",
    "llava",
    "pixel",
    "pixels",
    "vision-language",
    "3d",
    "point cloud",
)
GATED = ("log_odds", *NEIGHBOUR_FEATURES)


@dataclass(frozen=True)
class Paper:
    id: str
    title: str
    abstract: str

    @property
    def text(self) -> str:
        return " ".join(f"{self.title}. {self.abstract}".split())[:MAX_TEXT]


def model_path(inputs: Inputs) -> Path:
    return inputs.project.root / MODEL_FILE


# -- features ---------------------------------------------------------------------------------------------


class References:
    """The curated papers a new paper is compared with: records (their indexed text) and triaged papers
    (their titles), as static vectors in two faiss indexes."""

    def __init__(self, kb: KnowledgeBase, encoder: StaticEncoder) -> None:
        from kb.search.document import Document
        from kb.search.vectors import VectorIndex

        records = sorted(kb, key=lambda r: r.id)
        self.record_ids = [r.id for r in records]
        self.triage_ids = sorted(kb.triage.excluded)
        self.records = VectorIndex.build(encoder.encode([Document.of(r, kb.taxonomy).text for r in records]))
        self.triaged = VectorIndex.build(encoder.encode([kb.triage.excluded[i].title for i in self.triage_ids]))

    def features(self, vectors: np.ndarray, own: Sequence[str | None]) -> np.ndarray:
        """Best and mean-of-NEIGHBOURS cosine to records and to triaged papers; a paper's own record or
        triage entry is never its own neighbour (so training sees what a new paper sees)."""
        import numpy as np

        out = np.zeros((len(vectors), len(NEIGHBOUR_FEATURES)), dtype=np.float64)
        for column, (index, ids) in enumerate(((self.records, self.record_ids), (self.triaged, self.triage_ids))):
            if index.size == 0:
                continue
            scores, rows = index.search(vectors, NEIGHBOURS + 1)
            for i, paper_id in enumerate(own):
                kept = [float(s) for s, r in zip(scores[i], rows[i], strict=True) if r >= 0 and ids[r] != paper_id][
                    :NEIGHBOURS
                ]
                if kept:
                    out[i, 2 * column] = kept[0]
                    out[i, 2 * column + 1] = sum(kept) / len(kept)
        return out


def gate(texts: Sequence[str], words: Sequence[str] = GATE_WORDS) -> np.ndarray:
    """1 for a text that names a non-text modality or a multimodal model, else 0."""
    import numpy as np

    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b")
    return np.array([1.0 if pattern.search(text.casefold()) else 0.0 for text in texts])


def stack(vectors: np.ndarray, odds: np.ndarray, near: np.ndarray, gated: np.ndarray) -> np.ndarray:
    """The feature matrix: vector, log-odds, neighbours, the gate, and the gate times log-odds and neighbours."""
    import numpy as np

    topical = np.column_stack([odds, near])
    return np.column_stack([vectors.astype(np.float64), topical, gated, gated[:, None] * topical])


def words_of(texts: Sequence[str]) -> list[set[str]]:
    from kb.search.lexical import tokenize

    return [set(tokenize(text)) for text in texts]


def word_table(
    words: Sequence[set[str]], labels: Sequence[int], weights: Sequence[float] | None = None
) -> dict[str, float]:
    """Naive-Bayes log-odds per word, records against the rest (Bernoulli counts, weighted, add-one prior)."""
    positive: dict[str, float] = {}
    negative: dict[str, float] = {}
    seen: Counter[str] = Counter()
    weights = weights if weights is not None else [1.0] * len(labels)
    n_pos = n_neg = 0.0
    for found, label, weight in zip(words, labels, weights, strict=True):
        target = positive if label else negative
        for word in found:
            target[word] = target.get(word, 0.0) + weight
        seen.update(found)
        if label:
            n_pos += weight
        else:
            n_neg += weight
    table = {}
    for word, count in seen.items():
        if count >= MIN_WORD_COUNT:
            a, b = positive.get(word, 0.0), negative.get(word, 0.0)
            table[word] = math.log((a + NB_PRIOR) / (n_pos + 2 * NB_PRIOR)) - math.log(
                (b + NB_PRIOR) / (n_neg + 2 * NB_PRIOR)
            )
    return table


def log_odds(table: dict[str, float], words: Sequence[set[str]]) -> np.ndarray:
    import numpy as np

    return np.array([sum(table.get(w, 0.0) for w in found) for found in words], dtype=np.float64)


# -- the model --------------------------------------------------------------------------------------------


@dataclass
class RelevanceModel:
    words: dict[str, float]
    weights: list[float]  # vector dimensions, then "log_odds", then NEIGHBOUR_FEATURES
    intercept: float
    mean: list[float]
    scale: list[float]
    threshold: float  # `kb watch` drafts papers whose probability reaches it
    base: str  # the static base vectors it was trained on (kb.search.static.source_hash)
    info: dict[str, Any] = field(default_factory=dict)
    gate_words: list[str] = field(default_factory=lambda: list(GATE_WORDS))
    areas: AreaModel | None = None

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        import numpy as np

        z = (features - np.asarray(self.mean)) / np.asarray(self.scale)
        logits = z @ np.asarray(self.weights) + self.intercept
        return 1.0 / (1.0 + np.exp(-logits))  # type: ignore[no-any-return]

    def to_json(self) -> str:
        data = {
            "format": FORMAT,
            "kind": "kb-discovery-model",
            "base": self.base,
            "threshold": round(self.threshold, 6),
            "info": self.info,
            "intercept": round(self.intercept, 6),
            "features": (
                ["vector"] * (len(self.weights) - 1 - 2 * len(GATED)) + [*GATED, "gate", *(f"gate*{f}" for f in GATED)]
            ),
            "gate_words": self.gate_words,
            "weights": [_digits(w) for w in self.weights],
            "mean": [_digits(m) for m in self.mean],
            "scale": [_digits(s) for s in self.scale],
            "words": {w: round(v, 4) for w, v in sorted(self.words.items())},
            "areas": self.areas.to_data() if self.areas is not None else None,
        }
        return json.dumps(data, ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def read(cls, path: Path) -> RelevanceModel | None:
        """The stored model, None when there is none; KbError when the file is not a model of this format."""
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            model = cls(
                words={str(k): float(v) for k, v in data["words"].items()},
                weights=[float(w) for w in data["weights"]],
                intercept=float(data["intercept"]),
                mean=[float(m) for m in data["mean"]],
                scale=[float(s) for s in data["scale"]],
                threshold=float(data["threshold"]),
                base=str(data["base"]),
                info=dict(data.get("info") or {}),
                gate_words=[str(w) for w in data["gate_words"]],
                areas=AreaModel.of(data["areas"]) if data.get("areas") else None,
            )
            if data.get("format") != FORMAT or not len(model.weights) == len(model.mean) == len(model.scale):
                raise ValueError("format or sizes")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KbError(
                f"{path}: not a discovery model this version reads ({exc}); retrain it with `kb discover FILE --train`"
            ) from None
        return model


class Scorer:
    """A model with what it needs at query time: the base encoder and the references. Open once, score often."""

    def __init__(self, inputs: Inputs, model: RelevanceModel) -> None:
        from kb.search.static import base_encoder, source_hash

        if model.base != source_hash():
            raise KbError(
                f"{MODEL_FILE} was trained on other static vectors ({model.base}, now {source_hash()}); "
                "retrain it with `kb discover FILE --train`"
            )
        self.model = model
        self.encoder = base_encoder(inputs.artefacts.search_base)
        self.references = References(inputs.kb, self.encoder)

    @classmethod
    def untrained(cls, inputs: Inputs) -> Scorer:
        """The encoder and references without a model yet: what training computes its features with."""
        from kb.search.static import source_hash

        return cls(inputs, RelevanceModel({}, [], 0.0, [], [], 0.5, source_hash()))  # features only

    def features(self, papers: Sequence[Paper], own: Sequence[str | None] | None = None) -> np.ndarray:

        texts = [p.text for p in papers]
        vectors = self.encoder.encode(texts)
        odds = log_odds(self.model.words, words_of(texts))
        near = self.references.features(vectors, own if own is not None else [p.id for p in papers])
        return stack(vectors, odds, near, gate(texts, self.model.gate_words))

    def scores(self, papers: Sequence[Paper]) -> np.ndarray:
        """The probability that each paper belongs in the knowledge base."""
        import numpy as np

        if not papers:
            return np.zeros(0)
        return self.model.probabilities(self.features(papers))


def open_scorer(inputs: Inputs) -> Scorer | None:
    model = RelevanceModel.read(model_path(inputs))
    return Scorer(inputs, model) if model is not None else None


# -- training ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Training:
    model: RelevanceModel
    out_of_fold: dict[str, float]  # paper id -> its cross-validated probability (every paper of the file)
    labels: dict[str, int]  # 1 record, 0 triaged, -1 neither


def train(inputs: Inputs, bulk: Path, progress: bool = False) -> Training:
    """Fit the model on `bulk`: records found in it are positives, triaged papers negatives, the other papers
    negatives of weight UNLABELLED_WEIGHT. FOLDS-fold cross-validation gives every paper an out-of-fold
    probability; the reported metrics and the threshold use the labelled papers' ones."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    from kb.search.bulk import plain_id, read_bulk
    from kb.search.static import source_hash

    kb = inputs.kb
    papers: dict[str, Paper] = {}
    labels: dict[str, int] = {}
    for raw_id, title, abstract in read_bulk(bulk):
        paper_id = plain_id(raw_id)
        if paper_id not in papers:
            papers[paper_id] = Paper(paper_id, title, abstract)
            labels[paper_id] = 1 if paper_id in kb.records else 0 if paper_id in kb.triage else -1
    kind = np.array([labels[i] for i in papers])
    n_pos, n_neg = int((kind == 1).sum()), int((kind == 0).sum())
    if min(n_pos, n_neg) < INNER_FOLDS * 2:
        raise KbError(
            f"{bulk}: holds {n_pos} records and {n_neg} triaged papers; training needs at least {INNER_FOLDS * 2} of"
            " each"
        )
    y = (kind == 1).astype(int)
    weight = np.where(kind == -1, UNLABELLED_WEIGHT, 1.0)
    scorer = Scorer.untrained(inputs)
    listed = list(papers.values())
    texts = [p.text for p in listed]
    vectors = scorer.encoder.encode(texts).astype(np.float64)
    words = words_of(texts)
    near = scorer.references.features(vectors, [p.id for p in listed])
    gated = gate(texts)
    folds = min(FOLDS, n_pos, n_neg)

    def table_of(rows: np.ndarray) -> dict[str, float]:
        return word_table([words[i] for i in rows], y[rows].tolist(), weight[rows].tolist())

    def stacked_odds(rows: np.ndarray) -> np.ndarray:
        """Out-of-fold log-odds for the training rows, so the regression learns how much an unseen paper's
        log-odds are worth, not how well the table remembers its own papers."""
        out = np.zeros(len(rows))
        for a, b in StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=1).split(rows, kind[rows]):
            out[b] = log_odds(table_of(rows[a]), [words[i] for i in rows[b]])
        return out

    def fit(rows: np.ndarray) -> tuple[StandardScaler, LogisticRegression, dict[str, float]]:
        x = stack(vectors[rows], stacked_odds(rows), near[rows], gated[rows])
        scaler = StandardScaler().fit(x)
        regression = LogisticRegression(C=REGULARISATION, max_iter=5000)
        regression.fit(scaler.transform(x), y[rows], sample_weight=weight[rows])
        return scaler, regression, table_of(rows)

    def predict(parts: tuple[StandardScaler, LogisticRegression, dict[str, float]], rows: np.ndarray) -> np.ndarray:
        scaler, regression, table = parts
        x = stack(vectors[rows], log_odds(table, [words[i] for i in rows]), near[rows], gated[rows])
        return regression.predict_proba(scaler.transform(x))[:, 1]  # type: ignore[no-any-return]

    oof = np.zeros(len(y))
    outer = StratifiedKFold(folds, shuffle=True, random_state=0)
    for number, (train_rows, test_rows) in enumerate(outer.split(np.zeros(len(y)), kind), 1):
        if progress:
            import click

            click.echo(f"  fold {number}/{folds}", err=True)
        oof[test_rows] = predict(fit(train_rows), test_rows)
    scaler, regression, table = fit(np.arange(len(y)))
    labelled = kind >= 0
    threshold, at = _threshold(oof[labelled], y[labelled])
    order = np.argsort(-oof[labelled], kind="stable")
    metrics = {
        "cv_folds": folds,
        "cv_roc_auc": round(float(roc_auc_score(y[labelled], oof[labelled])), 4),
        "cv_precision_top50": round(float(y[labelled][order[:50]].mean()), 4),
        "cv_precision_top200": round(float(y[labelled][order[:200]].mean()), 4),
        "threshold_precision": at["precision"],
        "threshold_recall": at["recall"],
        "unlabelled_above_threshold": int(((kind == -1) & (oof >= threshold)).sum()),
    }
    info = {
        "trained_on": bulk.name,
        "trained_on_sha256": _sha256(bulk),
        "positives": n_pos,
        "negatives": n_neg,
        "unlabelled": int((kind == -1).sum()),
        "unlabelled_weight": UNLABELLED_WEIGHT,
        "records": len(kb),
        "triaged": len(kb.triage),
        "words": len(table),
        "metrics": metrics,
        "metrics_note": (
            "cross-validated on the records (positives) and triaged papers (negatives) of the file; "
            "the threshold is the probability with the best F1 score there"
        ),
        "regenerate": f"kb discover {bulk.name} --train  (give the file's path; writes {MODEL_FILE})",
        "settings": {
            "regularisation": REGULARISATION,
            "min_word_count": MIN_WORD_COUNT,
            "neighbours": NEIGHBOURS,
            "folds": folds,
            "inner_folds": INNER_FOLDS,
        },
    }
    model = RelevanceModel(
        words=table,
        weights=[float(w) for w in regression.coef_[0]],
        intercept=float(regression.intercept_[0]),
        mean=[float(m) for m in scaler.mean_],
        scale=[float(s) for s in scaler.scale_],
        threshold=threshold,
        base=source_hash(),
        info=info,
    )
    model.areas = train_areas(kb, {p.id: p.text for p in listed if labels[p.id] == 1}, scorer.encoder)
    ids = list(papers)
    return Training(model, {ids[i]: float(oof[i]) for i in range(len(ids))}, labels)


def _threshold(scores: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, float]]:
    import numpy as np

    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(y[order])
    precision = hits / np.arange(1, len(y) + 1)
    recall = hits / max(int(y.sum()), 1)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0)
    best = int(np.argmax(f1))
    return float(scores[order[best]]), {
        "precision": round(float(precision[best]), 4),
        "recall": round(float(recall[best]), 4),
    }


def write(inputs: Inputs, model: RelevanceModel) -> Path:
    path = model_path(inputs)
    atomic.write_text(path, model.to_json())
    return path


def _digits(value: float) -> float:
    """Seven significant digits: some vector dimensions vary by less than 1e-6, so fixed decimals would zero them."""
    return float(f"{value:.7g}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- areas: a classifier per leaf area, learnt from the records ----------------------------------------------

AREA_REGULARISATION = 0.1
AREA_MIN_RECORDS = 3  # a leaf with fewer records is left to the neighbours' votes
AREA_BLEND = 0.5  # suggested score = AREA_BLEND x the classifier's probability + the rest x the neighbours' vote


@dataclass
class AreaModel:
    """One logistic regression per leaf area on the standardised static base vector of title and abstract."""

    leaves: list[str]
    weights: list[list[float]]
    intercepts: list[float]
    mean: list[float]
    scale: list[float]

    def to_data(self) -> dict[str, Any]:
        return {
            "leaves": self.leaves,
            "intercepts": [_digits(b) for b in self.intercepts],
            "mean": [_digits(m) for m in self.mean],
            "scale": [_digits(s) for s in self.scale],
            "weights": [[_digits(w) for w in row] for row in self.weights],
            "blend": AREA_BLEND,
        }

    @classmethod
    def of(cls, data: dict[str, Any]) -> AreaModel:
        return cls(
            [str(a) for a in data["leaves"]],
            [[float(w) for w in row] for row in data["weights"]],
            [float(b) for b in data["intercepts"]],
            [float(m) for m in data["mean"]],
            [float(s) for s in data["scale"]],
        )

    def probabilities(self, vector: np.ndarray) -> dict[str, float]:
        import numpy as np

        z = (vector.astype(np.float64) - np.asarray(self.mean)) / np.asarray(self.scale)
        logits = np.asarray(self.weights) @ z + np.asarray(self.intercepts)
        return {leaf: float(p) for leaf, p in zip(self.leaves, 1.0 / (1.0 + np.exp(-logits)), strict=True)}


class AreaSuggester:
    """The area model with its encoder, for `kb.search.suggest`: open once, ask for many papers."""

    def __init__(self, model: AreaModel, encoder: StaticEncoder) -> None:
        self.model = model
        self.encoder = encoder

    def probabilities(self, text: str) -> dict[str, float]:
        return self.model.probabilities(self.encoder.encode([text[:MAX_TEXT]])[0])


def open_area_suggester(inputs: Inputs) -> AreaSuggester | None:
    """The learned area suggestions when the stored model has them (and its base vectors are current)."""
    from kb.search.static import source_hash

    model = RelevanceModel.read(model_path(inputs))
    if model is None or model.areas is None or model.base != source_hash():
        return None
    from kb.search.static import base_encoder

    return AreaSuggester(model.areas, base_encoder(inputs.artefacts.search_base))


def train_areas(
    kb: KnowledgeBase, texts: dict[str, str], encoder: StaticEncoder, leave_out: set[str] | None = None
) -> AreaModel:
    """Fit the per-leaf classifiers on every record (but `leave_out`, for cross-validation): its title and
    abstract where `texts` has it (the bulk file), else its title and summary."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    records = sorted((r for r in kb if r.id not in (leave_out or set())), key=lambda r: r.id)
    x = encoder.encode([texts.get(r.id) or f"{r.title}. {r.summary}" for r in records]).astype(np.float64)
    scaler = StandardScaler().fit(x)
    z = scaler.transform(x)
    leaves, weights, intercepts = [], [], []
    for leaf in kb.taxonomy.leaves():
        y = np.array([leaf in r.taxonomy for r in records], dtype=int)
        if y.sum() < AREA_MIN_RECORDS or y.sum() == len(y):
            continue
        regression = LogisticRegression(C=AREA_REGULARISATION, max_iter=3000).fit(z, y)
        leaves.append(leaf)
        weights.append([float(w) for w in regression.coef_[0]])
        intercepts.append(float(regression.intercept_[0]))
    return AreaModel(leaves, weights, intercepts, [float(m) for m in scaler.mean_], [float(s) for s in scaler.scale_])
