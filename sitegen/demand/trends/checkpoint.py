"""The agent's short-term memory: a LangGraph checkpointer that keeps each run's thread in the site's store
(``store.trends``), so a run that waits for approval (a LangGraph ``interrupt``) can be resumed by another
process: the review app in ``sitegen serve``, or the next build.

It stores what LangGraph's own savers store - each checkpoint (without its channel values), the value of each
channel version as a blob, and the pending writes of each checkpoint - serialised by the saver's ``serde``
(LangGraph's JSON-plus / msgpack serializer). Only the synchronous API is implemented: the agent runs the
graph with ``invoke``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from langgraph.checkpoint.base import (WRITES_IDX_MAP, BaseCheckpointSaver, ChannelVersions, Checkpoint,
                                       CheckpointMetadata, CheckpointTuple, get_checkpoint_id,
                                       get_checkpoint_metadata, writes_sort_key)


class StoreCheckpointer(BaseCheckpointSaver[str]):
    """A checkpointer over ``store.trends`` (all its SQL lives in ``sitegen/store/trends.py``)."""

    def __init__(self, store: Any):
        super().__init__()
        self.memory = store.trends

    # -- reading -----------------------------------------------------------------------------------------
    def _tuple(self, row: tuple) -> CheckpointTuple:
        thread_id, ns, checkpoint_id, parent_id, typ, blob, mtyp, mblob = row
        checkpoint: Checkpoint = self.serde.loads_typed((typ, blob))
        versions = {k: str(v) for k, v in checkpoint.get("channel_versions", {}).items()}
        values = {}
        for channel, typed in self.memory.blobs(thread_id, ns, versions).items():
            if typed[0] != "empty":
                values[channel] = self.serde.loads_typed(typed)
        writes = sorted(self.memory.writes(thread_id, ns, checkpoint_id),
                        key=lambda w: writes_sort_key(w[5], w[0], w[1]))
        return CheckpointTuple(
            config={"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": checkpoint_id}},
            checkpoint={**checkpoint, "channel_values": values},
            metadata=self.serde.loads_typed((mtyp, mblob)),
            parent_config=({"configurable": {"thread_id": thread_id, "checkpoint_ns": ns,
                                             "checkpoint_id": parent_id}} if parent_id else None),
            pending_writes=[(task, channel, self.serde.loads_typed((t, v))) for task, _i, channel, t, v, _p in writes],
        )

    def get_tuple(self, config: dict) -> CheckpointTuple | None:
        conf = config["configurable"]
        rows = self.memory.checkpoint_rows(conf["thread_id"], conf.get("checkpoint_ns", ""),
                                           get_checkpoint_id(config), limit=1)
        return self._tuple(rows[0]) if rows else None

    def list(self, config: dict | None, *, filter: dict[str, Any] | None = None, before: dict | None = None,
             limit: int | None = None) -> Iterator[CheckpointTuple]:
        conf = (config or {}).get("configurable", {})
        rows = self.memory.checkpoint_rows(conf.get("thread_id"), conf.get("checkpoint_ns"),
                                           get_checkpoint_id(config) if config else None,
                                           get_checkpoint_id(before) if before else None)
        left = limit
        for row in rows:
            if left is not None and left <= 0:
                break
            found = self._tuple(row)
            if filter and not all(found.metadata.get(k) == v for k, v in filter.items()):
                continue
            if left is not None:
                left -= 1
            yield found

    # -- writing -----------------------------------------------------------------------------------------
    def put(self, config: dict, checkpoint: Checkpoint, metadata: CheckpointMetadata,
            new_versions: ChannelVersions) -> dict:
        conf = config["configurable"]
        thread_id, ns = conf["thread_id"], conf.get("checkpoint_ns", "")
        c = dict(checkpoint)
        values = c.pop("channel_values", {})
        blobs = []
        for channel, version in new_versions.items():
            typed = self.serde.dumps_typed(values[channel]) if channel in values else ("empty", b"")
            blobs.append((thread_id, ns, channel, str(version), typed[0], typed[1]))
        self.memory.put_blobs(blobs)
        self.memory.put_checkpoint(thread_id, ns, checkpoint["id"], conf.get("checkpoint_id"),
                                   self.serde.dumps_typed(c),
                                   self.serde.dumps_typed(get_checkpoint_metadata(config, metadata)))
        return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": checkpoint["id"]}}

    def put_writes(self, config: dict, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = "") -> None:
        conf = config["configurable"]
        thread_id, ns, checkpoint_id = conf["thread_id"], conf.get("checkpoint_ns", ""), conf["checkpoint_id"]
        special, regular = [], []
        for idx, (channel, value) in enumerate(writes):
            i = WRITES_IDX_MAP.get(channel, idx)
            typed = self.serde.dumps_typed(value)
            row = (thread_id, ns, checkpoint_id, task_id, i, channel, typed[0], typed[1], task_path)
            (regular if i >= 0 else special).append(row)
        # a task's regular writes are written once (a retry keeps the first); errors, interrupts and resumes
        # replace what was there
        self.memory.put_writes(regular, keep_existing=True)
        self.memory.put_writes(special, keep_existing=False)

    def delete_thread(self, thread_id: str) -> None:
        self.memory.delete_thread(thread_id)

    def get_next_version(self, current: str | int | None, channel: None = None) -> str:
        """Zero-padded increasing versions, so they sort as text."""
        if current is None:
            n = 0
        elif isinstance(current, int):
            n = current
        else:
            n = int(str(current).split(".")[0])
        return f"{n + 1:032}"
