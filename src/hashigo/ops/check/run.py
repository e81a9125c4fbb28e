"""One check: measure every source at once, record the readings, judge every rule, fit trends, decide,
and notify when the level changed since the last run (kept in the history file, so restarts do not
notify twice). `watch` repeats it on an interval with the same sources, so rates span the interval."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hashigo.ops.check.assemble import Assembly, assemble
from hashigo.ops.check.evaluate import RuleResult, evaluate, recorded_readings
from hashigo.ops.check.history import History
from hashigo.ops.check.loading import load_rules
from hashigo.ops.check.metrics import LEVELS, Level
from hashigo.ops.check.notify import message, post, should_notify
from hashigo.ops.check.plan_limits import CurrentPlan, current_plan
from hashigo.ops.check.rulefile import RulesFile
from hashigo.ops.check.sources.base import Outcome, measure_all
from hashigo.ops.check.trends import Trend, trends
from hashigo.ops.check.verdict import Verdict, decide


@dataclass
class Setup:
    rules: RulesFile
    rules_name: str
    plan: CurrentPlan
    assembly: Assembly
    history_path: Path
    webhook: str | None


@dataclass
class CheckRun:
    at: float
    outcomes: list[Outcome]
    results: list[RuleResult]
    trends: list[Trend]
    verdict: Verdict
    previous_level: Level | None
    history_path: Path
    notified: bool = False
    notify_error: str | None = None
    skipped: list[str] = field(default_factory=list)

    def as_dict(self, setup: Setup) -> dict[str, Any]:
        return {
            "version": 1,
            "measured_at": datetime.fromtimestamp(self.at, UTC).isoformat(timespec="seconds"),
            "level": self.verdict.level, "exit_code": self.verdict.exit_code,
            "verdict": self.verdict.as_dict(),
            "rules": [r.as_dict() for r in self.results],
            "sources": [o.as_dict() for o in self.outcomes],
            "skipped_sources": self.skipped,
            "trends": [t.as_dict() for t in self.trends],
            "plan": setup.plan.as_dict(),
            "rules_file": setup.rules_name,
            "history": str(self.history_path),
            "previous_level": self.previous_level,
            "notified": self.notified, "notify_error": self.notify_error,
        }


def data_dir(environ: Mapping[str, str], cwd: Path) -> Path:
    given = environ.get("HASHIGO_DATA_DIR", "").strip()
    return (cwd / given).resolve() if given else (cwd / ".hashigo").resolve()


def prepare(rules_path: Path | None, patch: Callable[[RulesFile], RulesFile] | None = None, *,
            environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Setup:
    """Everything that can be wrong with the input is found here, before anything is measured."""
    folder = cwd or Path.cwd()
    env = dict(os.environ if environ is None else environ)
    rules, name = load_rules(rules_path, folder)
    if patch is not None:
        rules = patch(rules)
    plan = current_plan(rules.plan, rules.limits)
    assembly = assemble(rules, environ=env, cwd=folder)
    history = rules.history.path or data_dir(env, folder) / "check" / "history.sqlite3"
    return Setup(rules, name, plan, assembly, history, rules.notify.webhook)


async def check_once(setup: Setup, history: History, clock: Callable[[], float] = time.time) -> CheckRun:
    outcomes = await measure_all(setup.assembly.sources)
    now = clock()
    history.record(now, recorded_readings(outcomes))
    results = evaluate(setup.rules.rules, outcomes, setup.plan, history, now)
    found = trends(results, history, setup.rules.trends, now)
    verdict = decide(results, outcomes, setup.plan)
    stored = history.get_state("level")
    previous: Level | None = next((level for level in LEVELS if level == stored), None)
    run = CheckRun(now, outcomes, results, found, verdict, previous, history.path,
                   skipped=list(setup.assembly.skipped))
    if setup.webhook and should_notify(previous, verdict.level):
        run.notify_error = await post(setup.webhook, message(verdict, previous, results))
        run.notified = run.notify_error is None
    if run.notify_error is None:  # else keep the old level, so the next run tries again
        history.set_state({"level": verdict.level}, now)
    if now - float(history.get_state("pruned_at") or 0) > 3600:  # a DELETE over the whole table: hourly is enough
        history.prune(setup.rules.history.keep_days, now)
        history.set_state({"pruned_at": str(now)}, now)
    return run


async def watch(setup: Setup, history: History, interval: float, count: int | None,
                show: Callable[[CheckRun], None]) -> CheckRun:
    """Sample every `interval` seconds (measuring time included) until `count` samples, or forever."""
    done = 0
    while True:
        started = time.monotonic()
        run = await check_once(setup, history)
        show(run)
        done += 1
        if count is not None and done >= count:
            return run
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


async def close_sources(setup: Setup) -> None:
    for source in setup.assembly.sources:
        await source.close()
