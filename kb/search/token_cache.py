"""Token ids of the indexed texts under the static model's tokenizer, kept between builds by the texts' hashes.

The static model is weighed again whenever a record changes (its weights count documents), and that needs
every document's tokens: tokenising 5,000 texts took 0.8-1.2 s of a one-record rebuild. Only new or changed
texts are tokenised now. The ids are the full tokenizer's (before the vocabulary is pruned), so they depend
on the tokenizer alone: the artefact's key is the model's identity (`kb.search.static.source_hash`), and
a cache from another model, a torn write or a file of the wrong shape reads as empty.

Files: `ids.npy` (every text's ids, one after another, int32), `ends.npy` (where each text's ids end, int64)
and `hashes.json` (the texts' hashes, in the same order).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kb import artefacts
from kb.search.transformer import text_hash

if TYPE_CHECKING:
    import numpy as np

KIND = "token-ids"


class TokenCache:
    def __init__(self, folder: Path, key: str) -> None:
        self.folder = folder
        self.key = key
        self.ids: dict[str, np.ndarray] = {}
        self._load()

    def _load(self) -> None:
        import numpy as np

        manifest = artefacts.open_artefact(self.folder, KIND)
        if manifest is None or manifest.key != self.key:
            return
        try:
            ids = np.load(io.BytesIO((self.folder / "ids.npy").read_bytes()), allow_pickle=False)
            ends = np.load(io.BytesIO((self.folder / "ends.npy").read_bytes()), allow_pickle=False)
            hashes = json.loads((self.folder / "hashes.json").read_text(encoding="utf-8"))
            if ids.ndim != 1 or ends.shape != (len(hashes),) or (len(ends) and ends[-1] != len(ids)):
                raise ValueError("shapes differ")
        except (OSError, ValueError, TypeError, EOFError):
            return
        starts = [0, *ends[:-1].tolist()]
        self.ids = {h: ids[start:end] for h, start, end in zip(hashes, starts, ends.tolist(), strict=True)}

    def token_ids(
        self, texts: Sequence[str], tokenize: Callable[[Sequence[str]], Iterable[np.ndarray]]
    ) -> list[np.ndarray]:
        """Each text's token ids, calling `tokenize` (texts -> their ids, in order) only for the texts not
        cached; the cache is saved, holding just these texts, when it changed."""
        hashes = [text_hash(t) for t in texts]
        missing = {h: t for h, t in zip(hashes, texts, strict=True) if h not in self.ids}
        if missing:
            self.ids.update(zip(missing, tokenize(list(missing.values())), strict=True))
        if missing or len(self.ids) != len(set(hashes)):
            self._save(hashes)
        return [self.ids[h] for h in hashes]

    def _save(self, hashes: list[str]) -> None:
        import numpy as np

        kept = list(dict.fromkeys(hashes))
        self.ids = {h: self.ids[h] for h in kept}
        rows = [self.ids[h] for h in kept]
        ids = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int32)
        ends = np.cumsum([len(row) for row in rows], dtype=np.int64)
        files: dict[str, bytes | artefacts.Writer] = {"hashes.json": json.dumps(kept).encode()}
        for name, array in (("ids.npy", ids.astype(np.int32)), ("ends.npy", ends)):
            buffer = io.BytesIO()
            np.save(buffer, array, allow_pickle=False)
            files[name] = buffer.getvalue()
        artefacts.write_artefact(self.folder, KIND, self.key, "", files)
