"""What moves between two phases' stacks, in which order, with which hashigo command.

The commands are those of the hashigo issues that build them: `hashigo migrate db` (issue 7),
`hashigo migrate storage` (issue 6), `hashigo deploy render --target` (issue 8), `hashigo check` (issue 5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hashigo.ops.plan.catalog_schema import COMPONENTS, Entry
from hashigo.ops.plan.costing import EntryCost
from hashigo.ops.plan.demand import fmt
from hashigo.ops.plan.requirements import Requirements

if TYPE_CHECKING:
    from hashigo.ops.plan.engine import PhaseResult


@dataclass(frozen=True)
class Step:
    component: str
    action: str  # stays, resize, upgrade, move, add, remove
    old: str | None
    new: str | None
    detail: str
    commands: tuple[str, ...] = ()
    env: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"component": self.component, "action": self.action, "from": self.old, "to": self.new,
                "detail": self.detail, "commands": list(self.commands), "env": list(self.env)}


@dataclass
class Migration:
    from_phase: str
    to_phase: str
    from_stack: str | None
    to_stack: str | None
    trigger: str
    steps: list[Step] = field(default_factory=list)

    @property
    def moves(self) -> list[Step]:
        return [s for s in self.steps if s.action not in {"stays", "resize"}]

    def as_dict(self) -> dict[str, object]:
        return {"from_phase": self.from_phase, "to_phase": self.to_phase, "from_stack": self.from_stack,
                "to_stack": self.to_stack, "trigger": self.trigger, "steps": [s.as_dict() for s in self.steps]}


def trigger_text(phase: PhaseResult, req: Requirements) -> str:
    spec = phase.spec
    if spec.up_to_dau is not None:
        bound = f"DAU passes {fmt(spec.up_to_dau)} (≈ {fmt(phase.mau)} MAU)"
    else:
        bound = f"monthly active users pass {fmt(spec.up_to_mau or 0)}"
    return f"{bound}; watch it with `hashigo check`"


def migration_between(before: PhaseResult, after: PhaseResult, req: Requirements) -> Migration:
    old, new = before.chosen, after.chosen
    migration = Migration(before.spec.name, after.spec.name, old.stack.id if old else None,
                          new.stack.id if new else None, trigger_text(before, req))
    if old is None or new is None:
        return migration
    steps = [_step(c, old.choices.get(c), new.choices.get(c)) for c in COMPONENTS]
    found = [s for s in steps if s is not None]
    if any(s.action not in {"stays", "resize"} for s in found):
        found.insert(0, Step("all", "check", None, None, "confirm the trigger with live metrics before moving",
                             ("hashigo check",)))
        found.append(Step("all", "check", None, None,
                          "with the new environment, check every backend answers, then watch the new phase",
                          ("hashigo doctor", "hashigo check")))
    migration.steps = found
    return migration


def _same_service(a: Entry, b: Entry) -> bool:
    return a.provider == b.provider and a.service == b.service


def _step(component: str, old: EntryCost | None, new: EntryCost | None) -> Step | None:
    if old is None and new is None:
        return None
    if old is None:
        assert new is not None
        return Step(component, "add", None, new.entry.id, f"add {new.entry.label()}",
                    env=_env(component, new.entry))
    if new is None:
        return Step(component, "remove", old.entry.id, None, f"{old.entry.label()} is no longer needed")
    a, b = old.entry, new.entry
    if a.id == b.id:
        if old.size != new.size or old.instances != new.instances:
            return Step(component, "resize", a.id, b.id,
                        f"{_size(old)} → {_size(new)} on {a.label()} (no data moves)")
        return Step(component, "stays", a.id, b.id, f"{a.label()} stays")
    if _same_service(a, b):
        return Step(component, "upgrade", a.id, b.id,
                    f"change the plan in place: {a.plan} → {b.plan} (same account, no data moves)")
    return _move(component, old, new)


def _size(cost: EntryCost) -> str:
    count = f"{cost.instances} × " if cost.instances else ""
    return f"{count}{cost.size}" if cost.size else f"{count}instance(s)"


def _env(component: str, entry: Entry) -> tuple[str, ...]:
    variable = {"database": "DATABASE_URL", "storage": "STORAGE_URL", "cache": "REDIS_URL"}.get(component)
    if variable is None or entry.hashigo_url is None:
        return ()
    return (f"{variable}={entry.hashigo_url}",)


def _move(component: str, old: EntryCost, new: EntryCost) -> Step:
    a, b = old.entry, new.entry
    env = _env(component, b)
    if component == "database":
        if "postgres" in a.capabilities and "postgres" in b.capabilities:
            return Step(component, "move", a.id, b.id,
                        f"copy PostgreSQL from {a.label()} to {b.label()}: preflight, schema, copy, verify; "
                        "then cutover (source read-only, final sync, verify); if anything is wrong, "
                        '`hashigo migrate db rollback "$OLD_DATABASE_URL" "$NEW_DATABASE_URL"`',
                        ('hashigo migrate db run "$OLD_DATABASE_URL" "$NEW_DATABASE_URL"',
                         'hashigo migrate db cutover "$OLD_DATABASE_URL" "$NEW_DATABASE_URL"'), env)
        return Step(component, "move", a.id, b.id,
                    f"{a.label()} → {b.label()}: not PostgreSQL on both sides, so hashigo cannot copy it; "
                    "export and import by hand", env=env)
    if component == "storage":
        return Step(component, "move", a.id, b.id,
                    f"copy every object from {a.label()} to {b.label()}, resumable, SHA-256 verified",
                    ('hashigo migrate storage "$OLD_STORAGE_URL" "$NEW_STORAGE_URL"',
                     'hashigo migrate storage verify "$OLD_STORAGE_URL" "$NEW_STORAGE_URL"'), env)
    if component == "cache":
        return Step(component, "move", a.id, b.id,
                    f"{a.label()} → {b.label()}: nothing to copy (keys expire: sessions, rate limits, caches); "
                    "switch REDIS_URL; sessions still live in the old Redis start over (logins live in the database "
                    "and survive)", env=env)
    if component == "compute":
        target = b.deploy_target or "?"
        return Step(component, "move", a.id, b.id,
                    f"deploy the same image to {b.label()}, with the new URLs in its environment",
                    (f"hashigo deploy render --target {target}",))
    return Step(component, "move", a.id, b.id, f"{a.label()} → {b.label()}: set up the new service, switch DNS "
                "or configuration" + ("" if component != "load_balancer" else " (created with the deployment)"))
