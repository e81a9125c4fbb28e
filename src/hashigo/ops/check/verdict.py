"""The verdict: stay, consider the next phase, or move now — which rules say so, and the hashigo
commands that perform the move.

Exit codes: 0 ok, 1 consider, 2 required, 3 a source could not be measured. `required` wins over
3 (a missing number can only raise the level, and nothing is above required); 3 wins over
`consider` and `ok`, because the missing number might have said more. 4 is bad input (cli.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hashigo.ops.check.evaluate import RuleResult
from hashigo.ops.check.metrics import METRICS, Level, worst
from hashigo.ops.check.plan_limits import CurrentPlan
from hashigo.ops.check.sources.base import Outcome

EXIT_OK, EXIT_CONSIDER, EXIT_REQUIRED, EXIT_UNMEASURED, EXIT_BAD_INPUT = 0, 1, 2, 3, 4
_EXIT = {"ok": EXIT_OK, "consider": EXIT_CONSIDER, "required": EXIT_REQUIRED}

# Without a plan file, the moves each part of the stack needs (seed 002 §5, §6; issues 6, 7, 8).
_GENERIC = {
    "database": ('hashigo migrate db run "$OLD_DATABASE_URL" "$NEW_DATABASE_URL"',
                 'hashigo migrate db cutover "$OLD_DATABASE_URL" "$NEW_DATABASE_URL"'),
    "storage": ('hashigo migrate storage "$OLD_STORAGE_URL" "$NEW_STORAGE_URL"',
                'hashigo migrate storage verify "$OLD_STORAGE_URL" "$NEW_STORAGE_URL"'),
    "compute": ("hashigo deploy render --target TARGET",),
    "cache": (),
}
_ORDER = ("compute", "database", "cache", "storage")


@dataclass
class Verdict:
    level: Level
    exit_code: int
    summary: str
    triggered: list[str] = field(default_factory=list)
    unmeasured: list[str] = field(default_factory=list)
    current_phase: str | None = None
    next_phase: str | None = None
    commands: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "exit_code": self.exit_code, "summary": self.summary,
                "triggered": self.triggered, "unmeasured": self.unmeasured, "current_phase": self.current_phase,
                "next_phase": self.next_phase, "commands": self.commands, "steps": self.steps}


def _plan_moves(plan: CurrentPlan) -> tuple[list[str], list[str]]:
    """Commands and step lines of the plan file's migration to the next phase."""
    commands: list[str] = []
    steps: list[str] = []
    for step in plan.steps:
        if step.get("action") in {"stays", "check"}:
            continue
        steps.append(f"{step.get('component')}: {step.get('detail')}")
        for command in map(str, step.get("commands") or []):
            if command.startswith("hashigo deploy render") and plan.plan_file and plan.next_phase:
                command += f" --from-plan {plan.plan_file} --phase {plan.next_phase}"  # sizes from the plan
            if command not in commands:
                commands.append(command)
        commands += [f"export {e}" for e in step.get("env") or [] if f"export {e}" not in commands]
    return commands, steps


def _generic_moves(components: set[str]) -> tuple[list[str], list[str]]:
    parts = [c for c in _ORDER if c in components or "all" in components]
    commands = [c for part in parts for c in _GENERIC[part]]
    steps = [f"{part}: " + {"compute": "deploy the same image to the next phase's platform (`hashigo deploy` "
                                       "lists the targets)",
                            "database": "copy PostgreSQL, verify, then cut over (rollback stays possible)",
                            "cache": ("nothing to copy: point REDIS_URL at the new Redis (sessions in flight start "
                                      "over; logins live in the database)"),
                            "storage": "copy every object, resumable, then verify"}[part] for part in parts]
    return commands, steps


def decide(results: list[RuleResult], outcomes: list[Outcome], plan: CurrentPlan) -> Verdict:
    level = worst([r.level for r in results if r.level is not None])
    failed = [f"{o.name} ({o.target}): {o.error}" for o in outcomes if not o.ok]
    code = _EXIT[level] if level == "required" or not failed else EXIT_UNMEASURED
    triggered = [r for r in results if r.level == level and level != "ok"]
    verdict = Verdict(level, code, "", [r.name for r in triggered], failed, plan.phase, plan.next_phase)
    target = plan.next_phase or "the next phase"
    names = ", ".join(verdict.triggered)
    if level == "ok":
        verdict.summary = f"stay{' on ' + plan.phase if plan.phase else ''}: no rule reaches consider"
    else:
        verdict.summary = (f"consider moving to {target}: {names}" if level == "consider"
                           else f"move to {target} now: {names}")
        if plan.steps:
            verdict.commands, verdict.steps = _plan_moves(plan)
        else:
            verdict.commands, verdict.steps = _generic_moves({METRICS[r.rule.metric].component for r in triggered})
        choose = [] if plan.steps else ["hashigo plan"]  # without a plan file, the next phase is still to choose
        verdict.commands = [*choose, *verdict.commands, "hashigo doctor", "hashigo check"]
    if failed:
        verdict.summary += f"; could not measure: {', '.join(o.name for o in outcomes if not o.ok)}"
    return verdict
