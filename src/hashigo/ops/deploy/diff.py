"""`deploy diff --from PHASE --to PHASE`: what changes in the deployment between two phases of a plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hashigo.ops.deploy.choose import build_config
from hashigo.ops.deploy.config import Options
from hashigo.ops.deploy.errors import DeployInputError
from hashigo.ops.deploy.plan_input import PhaseView, PlanView, catalog_deploy_targets
from hashigo.ops.deploy.render import render_target


@dataclass
class PhaseDeployment:
    phase: str
    target: str | None
    aspects: dict[str, str]
    files: list[str] = field(default_factory=list)


def _component(phase: PhaseView, name: str) -> str:
    found = phase.components.get(name)
    if found is None:
        return "—"
    size = f" {found.size}" if found.size else ""
    count = f" ×{found.instances}" if found.instances > 1 else ""
    return f"{found.entry}{size}{count}"


def deployment_of(plan: PlanView, phase: PhaseView) -> PhaseDeployment:
    target = plan.target_of(phase, catalog_deploy_targets())
    aspects = {"stack": phase.stack or "—", "deploy target": target or "none (no hashigo target)"}
    for name in ("compute", "load_balancer", "database", "cache", "storage", "cdn"):
        aspects[name] = _component(phase, name)
    files: list[str] = []
    if target is not None:
        options = Options(env="production", phase=phase.name, allowed_origins=("https://app.example.com",))
        cfg = build_config(target, options, plan)
        aspects["region"] = f"{cfg.region} ({cfg.region_code})"
        aspects["instances"] = f"{cfg.compute.min_instances}–{cfg.compute.max_instances}"
        aspects["instance size"] = f"{cfg.compute.vcpu:g} vCPU, {cfg.compute.memory_gb:g} GB"
        aspects["websocket"] = "yes" if cfg.websocket else "no"
        if target == "aws":
            aspects["database capacity"] = f"{cfg.database.min_acu:g}–{cfg.database.max_acu:g} ACU"
        files = sorted(render_target(target, cfg, plan, options))
    return PhaseDeployment(phase.name, target, aspects, files)


def _steps(plan: PlanView, start: int, end: int) -> list[dict[str, Any]]:
    names = [p.name for p in plan.phases[start:end + 1]]
    steps = []
    for migration in plan.migrations:
        if migration.get("from_phase") in names[:-1] and migration.get("to_phase") in names[1:]:
            for step in migration.get("steps") or []:
                if step.get("action") != "stays":
                    steps.append({"phases": f"{migration['from_phase']} → {migration['to_phase']}", **step})
    return steps


def phase_diff(plan: PlanView, from_phase: str, to_phase: str) -> dict[str, Any]:
    names = [p.name for p in plan.phases]
    first, last = plan.phase(from_phase), plan.phase(to_phase)
    start, end = names.index(first.name), names.index(last.name)
    if start >= end:
        raise DeployInputError([f"--from {from_phase} --to {to_phase}: {to_phase} must come after {from_phase} in the "
                                f"plan (its phases: {', '.join(names)})"])
    a, b = deployment_of(plan, first), deployment_of(plan, last)
    keys = list(dict.fromkeys([*a.aspects, *b.aspects]))
    rows = [{"aspect": k, "from": a.aspects.get(k, "—"), "to": b.aspects.get(k, "—"),
             "changed": a.aspects.get(k, "—") != b.aspects.get(k, "—")} for k in keys]
    return {"plan": plan.source, "from": first.name, "to": last.name, "rows": rows,
            "files": {"added": sorted(set(b.files) - set(a.files)), "removed": sorted(set(a.files) - set(b.files)),
                      "kept": sorted(set(a.files) & set(b.files))},
            "steps": _steps(plan, start, end)}
