"""Text embeddings keyed by text hash + model id (float32 bytes), so no text is embedded twice."""

from __future__ import annotations

import hashlib

from sitegen.store.repository import Repository


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class Embeddings(Repository):
    OWNER = "embeddings"
    fresh = False  # Store.ignore_cached_results: nothing is read back, every text is embedded again
    MIGRATIONS = [
        [
            """CREATE TABLE IF NOT EXISTS embeddings (
                text_hash VARCHAR, model_id VARCHAR, vector BLOB, PRIMARY KEY (text_hash, model_id))""",
        ],
    ]

    def get(self, hashes: list[str], model_id: str) -> dict[str, bytes]:
        if not hashes or self.fresh:
            return {}
        with self.db.registered("_wanted", self.db.keys_table(hashes)):
            rows = self.db.rows("SELECT e.text_hash, e.vector FROM embeddings e JOIN _wanted w ON e.text_hash = w.k "
                                "WHERE e.model_id = ?", [model_id])
        return {h: bytes(v) for h, v in rows}

    def put(self, model_id: str, vectors: dict[str, bytes]) -> None:
        keys = list(vectors)
        self.db.bulk_insert("embeddings", ["text_hash", "model_id", "vector"],
                            [keys, [model_id] * len(keys), [vectors[k] for k in keys]], replace=True)
