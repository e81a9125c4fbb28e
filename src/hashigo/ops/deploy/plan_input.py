"""`hashigo plan --json` output, read for the choices a deployment takes from it.

Only the parts deploy uses are read: the requirements (sizes of one instance, WebSocket needs, region),
and per phase the chosen stack's components (catalog entry, size, instances) and the usage at the
phase's upper bound (peak vCPU, WebSockets, cache memory, HA).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hashigo.ops.deploy.errors import DeployInputError

# The catalog's deploy_target names → this command's targets.
TARGET_OF_CATALOG = {"ecs-fargate": "aws", "cloud-run": "cloudrun", "fly": "fly", "render": "render",
                     "railway": "railway"}


@dataclass(frozen=True)
class Component:
    component: str
    entry: str
    size: str | None
    instances: int


@dataclass(frozen=True)
class PhaseView:
    name: str
    title: str
    stack: str | None
    components: dict[str, Component]
    usage: dict[str, Any]
    lines: list[dict[str, Any]]
    must_have: frozenset[str]

    def entry(self, component: str) -> str | None:
        found = self.components.get(component)
        return found.entry if found else None


@dataclass(frozen=True)
class PlanView:
    source: str
    app: str
    region: str
    requirements: dict[str, Any]
    phases: list[PhaseView]
    migrations: list[dict[str, Any]]

    def phase(self, name: str) -> PhaseView:
        for phase in self.phases:
            if phase.name == name:
                return phase
        raise DeployInputError([f"--phase {name}: the plan ({self.source}) has no such phase; "
                                f"accepted: {', '.join(p.name for p in self.phases)}"])

    def target_of(self, phase: PhaseView, catalog_targets: dict[str, str | None]) -> str | None:
        entry = phase.entry("compute")
        found = catalog_targets.get(entry) if entry else None
        return TARGET_OF_CATALOG.get(found) if found else None

    def phase_for_target(self, target: str, catalog_targets: dict[str, str | None]) -> PhaseView | None:
        """The last phase whose chosen compute deploys with ``target`` (the largest sizes), else None."""
        matching = [p for p in self.phases if self.target_of(p, catalog_targets) == target]
        return matching[-1] if matching else None

    def needs_websocket(self, phase: PhaseView | None) -> bool:
        concurrent = float(self.requirements.get("websocket", {}).get("concurrent") or 0)
        must = set(self.requirements.get("must_have") or []) | (set(phase.must_have) if phase else set())
        return concurrent > 0 or "websocket" in must


def _need(data: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(data, dict) or key not in data or not isinstance(data[key], kind):
        raise DeployInputError([f"{where}: expected a {kind.__name__} at '{key}' — is this the output of "
                                f"`hashigo plan --json`?"])
    return data[key]


def _phase(raw: Any, where: str) -> PhaseView:
    components = {}
    for item in _need(raw, "components", list, where):
        comp = Component(str(item.get("component")), str(item.get("entry")), item.get("size"),
                         int(item.get("instances") or 0))
        components[comp.component] = comp
    return PhaseView(name=str(_need(raw, "name", str, where)), title=str(raw.get("title") or raw["name"]),
                     stack=raw.get("chosen"), components=components, usage=dict(raw.get("usage") or {}),
                     lines=list(raw.get("lines") or []), must_have=frozenset(raw.get("must_have") or []))


def plan_from_dict(data: Any, source: str) -> PlanView:
    version = _need(data, "version", int, source)
    if version != 1:
        raise DeployInputError([f"{source}: plan format version {version} is not supported; this hashigo reads "
                                f"version 1 (re-run `hashigo plan --json`)"])
    phases = [_phase(p, f"{source} phases[{i}]") for i, p in enumerate(_need(data, "phases", list, source))]
    if not phases:
        raise DeployInputError([f"{source}: the plan has no phases"])
    return PlanView(source=source, app=str(data.get("app") or "app"), region=str(_need(data, "region", str, source)),
                    requirements=dict(_need(data, "requirements", dict, source)), phases=phases,
                    migrations=list(data.get("migrations") or []))


def load_plan(path: Path) -> PlanView:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DeployInputError([f"--from-plan {path}: no such file; write one with "
                                f"`hashigo plan --json -o {path.name}`"]) from None
    except OSError as exc:
        raise DeployInputError([f"--from-plan {path}: cannot read it ({exc.strerror})"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DeployInputError([f"--from-plan {path}: not JSON (line {exc.lineno}: {exc.msg}); expected the output "
                                f"of `hashigo plan --json`"]) from None
    return plan_from_dict(data, path.name)


def computed_plan(cwd: Path) -> PlanView:
    """The plan `hashigo plan --json` would print here (./hashigo-plan.yaml, else the built-in defaults)."""
    from hashigo.ops.plan import PlanRequest, make_report
    from hashigo.ops.plan.errors import PlanInputError
    from hashigo.ops.plan.report import as_dict

    try:
        report = make_report(PlanRequest(cwd=cwd))
    except PlanInputError as exc:
        raise DeployInputError([f"plan: {p}" for p in exc.problems]) from None
    return plan_from_dict(json.loads(json.dumps(as_dict(report))), "hashigo plan")


def catalog_deploy_targets() -> dict[str, str | None]:
    """Catalog entry id → its deploy_target, from the plan's built-in catalog."""
    from hashigo.ops.plan.catalog import load_builtin

    return {e.id: e.deploy_target for e in load_builtin().entries.values()}


def catalog_capabilities() -> dict[str, frozenset[str]]:
    from hashigo.ops.plan.catalog import load_builtin

    return {e.id: frozenset(e.capabilities) for e in load_builtin().entries.values()}
