"""One build's hold on its output folder and its store: the checks before any work, the temporary folder,
the run record, the settling of a killed build, and the one-line errors for what the disk refuses."""

from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sitegen.core.config import Config, config_hash
from sitegen.core.models import BuildSummary, StageTiming
from sitegen.pipeline.output import WRITE_ERRNOS, check_output, debug_pause, reconcile, write_error
from sitegen.pipeline.swap import make_tmp, remove_stale_tmp, remove_tmp
from sitegen.store.db import Store


def build_time() -> str:
    """The build's timestamp: SOURCE_DATE_EPOCH when set (reproducible builds), else now (UTC, seconds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def summary_json(summary: BuildSummary) -> dict:
    return json.loads(json.dumps(asdict(summary), default=str))


class StageTimer:
    """``with timer("render"):`` records the stage's wall time in the summary (and honours the debug pause
    hook, ``SITEGEN_DEBUG_PAUSE_AT``)."""

    def __init__(self, summary: BuildSummary):
        self.summary = summary

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        debug_pause(name)
        t0 = time.perf_counter()
        yield
        self.summary.stages.append(StageTiming(name, time.perf_counter() - t0))


class BuildSession:
    """``with BuildSession(cfg, summary) as s:`` refuses an unsafe output before any work, makes the temporary
    folder, opens the store (one build at a time), settles what a killed build left (``s.trusted``: the output
    holds the store's live pages) and records the run; on leaving it records the outcome, keeps a backup of a
    good build's state, removes the temporary folder and turns a write error into one line."""

    def __init__(self, cfg: Config, summary: BuildSummary):
        self.cfg, self.summary = cfg, summary
        self.out_dir = cfg.output_dir
        self.started = build_time()

    def __enter__(self) -> "BuildSession":
        check_output(self.cfg)  # never publish over what sitegen did not create
        try:
            if self.out_dir.parent.is_dir():
                remove_stale_tmp(self.out_dir.parent)
            self.tmp_dir: Path = make_tmp(self.out_dir.parent)
        except OSError as exc:
            raise write_error(exc, self.out_dir, self.cfg.store_path.parent) from exc
        try:
            self.store = Store(self.cfg.store_path)
        except BaseException:
            remove_tmp(self.tmp_dir)
            raise
        try:
            self.trusted = reconcile(self.store, self.out_dir)
            self.run_id = self.store.runs.begin(self.started, config_hash(self.cfg))
        except BaseException:
            remove_tmp(self.tmp_dir)
            self.store.close()
            raise
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        try:
            if exc is None:
                self.store.runs.finish(self.run_id, "ok", build_time(), summary_json(self.summary))
                self._backup()
                return False
            remove_tmp(self.tmp_dir)
            try:
                reconcile(self.store, self.out_dir)  # a failed swap: the pages committed for it go back at once
                self.store.runs.finish(self.run_id, "failed", build_time(), {"error": str(exc)})
            except Exception:  # the store itself may be the problem; the original error matters more
                pass
            if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
                raise write_error(exc, self.out_dir, self.cfg.store_path.parent) from exc
            return False
        finally:
            self.store.close()

    def _backup(self) -> None:
        """Keep the durable state of this good build beside the store. The site is already published, so a
        failed backup is a warning, not a failed build."""
        from sitegen.core.errors import StoreError

        try:
            self.store.backup()
        except (OSError, StoreError) as exc:
            self.summary.warnings.append(f"store backup failed (the previous backup is kept): {exc}")
