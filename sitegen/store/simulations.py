"""The demand-loop simulations run for this site (``sitegen simulate``): the last run of each arm, with its world
settings and clicks per round, so the build report can draw the curve. A new run replaces the arm's last one."""

from __future__ import annotations

import json

from sitegen.store.repository import Repository


class Simulations(Repository):
    OWNER = "simulations"
    MIGRATIONS = [
        ["CREATE TABLE IF NOT EXISTS simulation_arms (arm VARCHAR PRIMARY KEY, finished VARCHAR, settings JSON, "
         "rounds JSON)"],
    ]
    DURABLE = ("simulation_arms",)

    def record(self, arm: str, finished: str, settings: dict, rounds: list[dict]) -> None:
        """Keep ``arm``'s run (replacing its last one)."""
        with self.db.transaction():
            self.db.execute("DELETE FROM simulation_arms WHERE arm = ?", [arm])
            self.db.execute("INSERT INTO simulation_arms VALUES (?, ?, ?, ?)",
                            [arm, finished, json.dumps(settings, sort_keys=True), json.dumps(rounds)])

    def arms(self) -> dict[str, dict]:
        """arm -> {"finished", "settings", "rounds"} of each arm's last run."""
        return {arm: {"finished": f, "settings": json.loads(s or "{}"), "rounds": json.loads(r or "[]")}
                for arm, f, s, r in self.db.rows("SELECT arm, finished, settings, rounds FROM simulation_arms "
                                                 "ORDER BY arm")}
