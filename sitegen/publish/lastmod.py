"""lastmod and the change list: a page's lastmod moves only when its content changes."""

from __future__ import annotations

from dataclasses import replace

from sitegen.core.models import PageRecord


def assign_lastmod(records: list[PageRecord], previous: dict[str, PageRecord], now: str
                   ) -> tuple[list[PageRecord], list[tuple[str, str, str, str]]]:
    """lastmod moves only when a page's content changes. Returns the records and the change list
    (path, change, old title, new title) with change in added / removed / retitled / modified."""
    out, changes = [], []
    for r in records:
        prev = previous.get(r.path)
        if prev is None:
            changes.append((r.path, "added", "", r.title))
            out.append(replace(r, lastmod=now))
        elif prev.content_hash == r.content_hash and prev.lastmod:
            out.append(replace(r, lastmod=prev.lastmod))
        else:
            changes.append((r.path, "retitled" if prev.title != r.title else "modified", prev.title, r.title))
            out.append(replace(r, lastmod=now))
    current = {r.path for r in records}
    changes += [(p, "removed", prev.title, "") for p, prev in sorted(previous.items()) if p not in current]
    return out, changes
