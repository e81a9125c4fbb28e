"""The plan the app is on now, and its limits, read from `hashigo plan`'s catalog (never a copy of it).

The user names catalog entries (`plan.entries`, `--plan`) or hands over the output of
`hashigo plan --json` with the phase they are in (`plan.file`, `plan.phase`); the latter also tells
the next phase and the commands that move there. A limit is a catalog hard limit (Supabase Free's
0.5 GB database) or else an included allowance (Supabase Pro's 8 GB of disk, beyond which it bills);
`limits:` in the rules file wins over both.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hashigo.ops.check.loading import CheckInputError
from hashigo.ops.check.metrics import LIMIT_QUANTITIES
from hashigo.ops.check.rulefile import PlanChoice
from hashigo.ops.plan.catalog import Catalog, load_catalog
from hashigo.ops.plan.catalog_schema import Entry
from hashigo.ops.plan.errors import PlanInputError

# Meters whose free allowance is the limit of a quantity check measures.
_METER_QUANTITY = {"database_gb": "database_gb", "cache_commands": "cache_commands", "cache_gb": "cache_memory_gb",
                   "storage_gb": "storage_gb", "requests": "requests"}
_UNITS = {"database_gb": "GB", "cache_memory_gb": "GB", "storage_gb": "GB", "cache_commands": "commands/month",
          "requests": "requests/month", "requests_per_day": "requests/day", "connections": "connections"}


@dataclass(frozen=True)
class PlanLimit:
    quantity: str
    max: float
    unit: str
    kind: Literal["limit", "included", "yours"]
    where: str
    consequence: str

    def describe(self) -> str:
        what = {"limit": "limit", "included": "included allowance", "yours": "limit"}[self.kind]
        return f"the {_show(self.max)} {self.unit} {what} ({self.where})"


def _show(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:g}"


@dataclass
class CurrentPlan:
    entries: list[Entry] = field(default_factory=list)
    limits: dict[str, PlanLimit] = field(default_factory=dict)
    phase: str | None = None
    next_phase: str | None = None
    next_stack: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    plan_file: str | None = None

    @property
    def named(self) -> bool:
        return bool(self.entries) or bool(self.limits)

    def as_dict(self) -> dict[str, Any]:
        return {"entries": [e.id for e in self.entries], "phase": self.phase, "next_phase": self.next_phase,
                "plan_file": self.plan_file,
                "limits": {q: {"max": lim.max, "unit": lim.unit, "kind": lim.kind, "where": lim.where,
                               "consequence": lim.consequence} for q, lim in self.limits.items()}}


def limits_of(entries: list[Entry]) -> dict[str, PlanLimit]:
    """Hard limits first; an included allowance only where no entry sets a hard limit. The smallest wins."""
    hard: dict[str, PlanLimit] = {}
    included: dict[str, PlanLimit] = {}
    for entry in entries:
        for limit in entry.limits:
            if limit.quantity in LIMIT_QUANTITIES:
                _keep_smallest(hard, PlanLimit(limit.quantity, limit.max, limit.unit, "limit", entry.label(),
                                               limit.consequence))
        for meter in entry.meters:
            quantity = _METER_QUANTITY.get(meter.meter)
            if quantity and meter.free > 0:
                _keep_smallest(included, PlanLimit(quantity, meter.free, _UNITS[quantity], "included",
                                                   entry.label(), f"billed beyond it ({meter.price:g} USD per "
                                                   f"{meter.per:g} {meter.unit})"))
    return {**included, **hard}


def _keep_smallest(found: dict[str, PlanLimit], limit: PlanLimit) -> None:
    if limit.quantity not in found or limit.max < found[limit.quantity].max:
        found[limit.quantity] = limit


def _catalog(choice: PlanChoice) -> Catalog:
    try:
        return load_catalog(choice.prices)
    except PlanInputError as exc:
        raise CheckInputError(exc.problems) from None


def _entries(catalog: Catalog, ids: list[str], where: str) -> list[Entry]:
    found = []
    for entry_id in ids:
        entry = catalog.entries.get(entry_id)
        if entry is None:
            close = difflib.get_close_matches(entry_id, list(catalog.entries), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise CheckInputError([f"{where}: unknown catalog entry {entry_id!r}{hint} "
                                   f"(`hashigo plan catalog` lists the ids)"])
        found.append(entry)
    return found


def read_plan_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckInputError([f"{path}: no such plan file (write one with `hashigo plan --json -o {path}`)"]) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckInputError([f"{path}: not the JSON of `hashigo plan --json` ({exc})"]) from None
    phases = data.get("phases") if isinstance(data, dict) else None
    if not isinstance(phases, list) or not all(isinstance(p, dict) and isinstance(p.get("name"), str)
                                                 for p in phases):
        raise CheckInputError([f"{path}:phases: missing or not a list of phases; expected the output of "
                               f"`hashigo plan --json`"])
    plan: dict[str, Any] = data
    return plan


def _phase_entries(phase: dict[str, Any], path: Path) -> list[str]:
    components = phase.get("components")
    if not isinstance(components, list):
        raise CheckInputError([f"{path}:phases({phase['name']}).components: missing; the phase has no stack"])
    return [str(c["entry"]) for c in components if isinstance(c, dict) and "entry" in c]


def current_plan(choice: PlanChoice, own_limits: dict[str, float]) -> CurrentPlan:
    plan = CurrentPlan()
    ids = list(choice.entries)
    if choice.file is not None:
        data = read_plan_file(choice.file)
        phases = data["phases"]
        names = [p["name"] for p in phases]
        name = choice.phase or names[0]
        if name not in names:
            raise CheckInputError([f"plan.phase: {name!r} is not a phase of {choice.file}; accepted: "
                                   f"{', '.join(names)}"])
        index = names.index(name)
        ids = _phase_entries(phases[index], choice.file) + ids
        plan.phase, plan.plan_file = name, str(choice.file)
        if index + 1 < len(phases):
            plan.next_phase, plan.next_stack = names[index + 1], phases[index + 1].get("chosen")
            plan.steps = _steps(data, name)
    elif choice.phase is not None:
        raise CheckInputError(["plan.phase: names a phase of a plan file; give plan.file (or --plan-file) too"])
    if ids:
        plan.entries = _entries(_catalog(choice), list(dict.fromkeys(ids)), "plan.entries")
    plan.limits = limits_of(plan.entries)
    for quantity, value in own_limits.items():
        plan.limits[quantity] = PlanLimit(quantity, value, _UNITS[quantity], "yours", "limits: in the rules file",
                                          "set by you")
    return plan


def _steps(data: dict[str, Any], phase: str) -> list[dict[str, Any]]:
    for migration in data.get("migrations") or []:
        if isinstance(migration, dict) and migration.get("from_phase") == phase:
            return [s for s in migration.get("steps") or [] if isinstance(s, dict)]
    return []
