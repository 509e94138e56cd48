"""Runners execute the GEO stages in order. ``local`` (the built-in) runs them in this process; a runner that
scales out (e.g. on a cluster) registers under the extension point ``runner`` and is chosen by ``runner.kind``."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Callable, ContextManager, Sequence

from sitegen.core.stage import Stage, StageContext, StageResults

Timer = Callable[[str], ContextManager]


class LocalRunner:
    """Each stage in turn, in this process, timed under its own name."""

    name = "local"

    def run(self, stages: Sequence[Stage], ctx: StageContext, results: StageResults,
            timer: Timer | None = None) -> StageResults:
        for stage in stages:
            with (timer(stage.name) if timer else nullcontext()):
                results.put(stage, stage.run(ctx, **results.inputs_for(stage)))
        return results
