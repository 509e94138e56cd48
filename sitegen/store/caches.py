"""A generic namespaced JSON cache (generator outputs, pixel colours, GEO results, audit findings ...)."""

from __future__ import annotations

import json

from sitegen.store.repository import Repository


class Caches(Repository):
    """``fresh`` (``Store.ignore_cached_results``): every namespace but the build's own state reads as empty, so
    each result is computed again (and written back)."""

    OWNER = "cache"
    STATE = frozenset({"output", "embed_precision"})  # the published generation; the precision decision
    fresh = False
    MIGRATIONS = [
        ["CREATE TABLE IF NOT EXISTS cache (namespace VARCHAR, key VARCHAR, value JSON, "
         "PRIMARY KEY (namespace, key))"],
    ]

    def get(self, namespace: str, keys: list[str]) -> dict[str, object]:
        if not keys or (self.fresh and namespace not in self.STATE):
            return {}
        with self.db.registered("_keys", self.db.keys_table(keys)):
            rows = self.db.rows("SELECT c.key, c.value FROM cache c JOIN _keys k ON c.key = k.k "
                                "WHERE c.namespace = ?", [namespace])
        return {k: json.loads(v) for k, v in rows}

    def put(self, namespace: str, values: dict[str, object]) -> None:
        keys = list(values)
        self.db.bulk_insert("cache", ["namespace", "key", "value"],
                            [[namespace] * len(keys), keys, [json.dumps(values[k], sort_keys=True) for k in keys]],
                            replace=True)

    def replace(self, namespace: str, values: dict[str, object]) -> None:
        """Keep only these entries in the namespace (a cache that holds just the newest result)."""
        with self.db.transaction():
            self.clear(namespace)
            self.put(namespace, values)

    def clear(self, namespace: str) -> None:
        self.db.execute("DELETE FROM cache WHERE namespace = ?", [namespace])
