"""Options + plan → one DeployConfig per target: which phase, region, sizes and capabilities it gets."""

from __future__ import annotations

import math
from typing import Any

from hashigo.ops.deploy import sizing
from hashigo.ops.deploy.config import (
    ALIASES,
    CI_TARGETS,
    PLATFORM_TARGETS,
    Cache,
    Compute,
    Database,
    DeployConfig,
    Lifecycle,
    Options,
    check_app_name,
)
from hashigo.ops.deploy.errors import DeployInputError
from hashigo.ops.deploy.plan_input import PhaseView, PlanView, catalog_capabilities, catalog_deploy_targets
from hashigo.ops.deploy.regions import resolve_region

# The catalog entry a platform target runs on when the plan did not choose one for it.
DEFAULT_ENTRY = {"fly": "fly.machines", "render": "render.paid", "railway": "railway.pro",
                 "cloudrun": "gcp.cloud-run-always-on", "aws": "aws.fargate"}
PLACEHOLDER_ORIGIN = "https://app.example.com"


def _phase_for(target: str, options: Options, plan: PlanView, warnings: list[str]) -> PhaseView:
    if options.phase is not None:
        return plan.phase(options.phase)
    deploy_targets = catalog_deploy_targets()
    if target in PLATFORM_TARGETS:
        found = plan.phase_for_target(target, deploy_targets)
        if found is not None:
            return found
        warnings.append(f"{target}: the plan ({plan.source}) chooses {target} in no phase; sizes come from its "
                        f"last phase ({plan.phases[-1].name}); pass --phase to pick another")
        return plan.phases[-1]
    return plan.phases[-1] if options.env == "production" else plan.phases[0]


def _ci_target(options: Options, plan: PlanView | None, phase: PhaseView | None) -> str:
    if options.deploy_to is not None:
        wanted = ALIASES.get(options.deploy_to, options.deploy_to)
        if wanted not in CI_TARGETS:
            raise DeployInputError([f"--deploy-to {options.deploy_to!r}: accepted: {', '.join(CI_TARGETS)}"])
        return wanted
    if plan is None:
        return "container"
    deploy_targets = catalog_deploy_targets()
    phases = [phase] if options.phase is not None and phase is not None else plan.phases
    for candidate in phases:
        found = plan.target_of(candidate, deploy_targets)
        if found is not None:
            return found
    return "container"


def _entry_for(target: str, phase: PhaseView | None, plan: PlanView | None, options: Options) -> str | None:
    if target not in PLATFORM_TARGETS:
        return None
    if target == "cloudrun" and options.billing is not None:
        return "gcp.cloud-run" if options.billing == "request" else "gcp.cloud-run-always-on"
    if phase is not None and plan is not None and plan.target_of(phase, catalog_deploy_targets()) == target:
        return phase.entry("compute")
    return DEFAULT_ENTRY[target]


def _check_websocket(target: str, entry: str | None, websocket: bool, why: str) -> None:
    if not websocket or entry is None:
        return
    capabilities = catalog_capabilities().get(entry, frozenset())
    if "websocket" not in capabilities:
        fix = (" Use instance-based billing (--billing instance), which keeps the CPU on while a socket is open"
               if target == "cloudrun" else " Choose a platform that keeps connections open")
        raise DeployInputError([f"{why} needs WebSocket connections (/api/v1/ws), but {entry} (target {target}) "
                                f"does not hold them: the catalog lists it without the websocket capability.{fix}, "
                                f"or pass --no-websocket if the app does not use them"])


def _compute(target: str, options: Options, plan: PlanView | None, phase: PhaseView | None,
             websocket: bool, entry: str | None) -> Compute:
    req: dict[str, Any] = plan.requirements if plan else {}
    traffic = req.get("traffic", {})
    vcpu = options.vcpu or float(traffic.get("instance_vcpu") or 0.5)
    memory = options.memory_gb or float(traffic.get("instance_memory_gb") or 1.0)
    usage = phase.usage if phase else {}
    same_platform = phase is not None and entry is not None and phase.entry("compute") == entry
    planned = phase.components["compute"].instances if same_platform and phase else 1
    per_instance = float(req.get("websocket", {}).get("per_instance") or 5000)
    low, high = sizing.instances(
        planned=planned, busy_vcpu_peak=float(usage.get("busy_vcpu_peak") or 0), vcpu=vcpu,
        utilization=float(traffic.get("target_utilization") or 0.6),
        websockets=float(usage.get("websockets_peak") or 0),
        per_instance=per_instance, production=options.env == "production",
        ha=bool(usage.get("ha")) if plan else options.env == "production")
    low = options.min_instances if options.min_instances is not None else low
    high = options.max_instances if options.max_instances is not None else max(high, low)
    if low < 0 or high < 1 or low > high:
        raise DeployInputError([f"--min-instances {low} / --max-instances {high}: need 0 ≤ min ≤ max and max ≥ 1"])
    concurrency = min(1000, int(per_instance)) if websocket else 80
    size_name = None
    if target == "render":
        size_name = sizing.render_plan(vcpu, memory, free=entry == "render.free")
    return Compute(vcpu, memory, low, high, concurrency, entry, size_name)


def _database(options: Options, phase: PhaseView | None) -> Database:
    production = options.env == "production"
    average = None
    entry = None
    if phase is not None:
        entry = phase.entry("database")
        size = phase.components["database"].size if "database" in phase.components else None
        average = sizing.acu_for(entry, size, phase.lines)
    low, high = sizing.acu_range(average, production)
    return Database(low, high, multi_az=production, backup_days=7 if production else 1, entry=entry)


def _cache(options: Options, phase: PhaseView | None) -> Cache:
    production = options.env == "production"
    memory = float(phase.usage.get("cache_memory_gb") or 0.5) if phase else 0.5
    if not production:
        return Cache("cache.t4g.micro", 1, 1.0)
    chosen = phase.components.get("cache") if phase else None
    if chosen is not None and chosen.entry == "aws.elasticache" and chosen.size:
        return Cache(chosen.size, max(2, chosen.instances), max(1.0, math.ceil(memory)))
    return Cache(sizing.cache_node(memory), 2, max(1.0, math.ceil(memory)))


def build_config(target: str, options: Options, plan: PlanView | None) -> DeployConfig:
    warnings: list[str] = []
    app = check_app_name(options.app or (plan.app if plan else "hashigo"))
    phase = _phase_for(target, options, plan, warnings) if plan else None
    deploy_to = _ci_target(options, plan, phase)
    region_target = target if target in PLATFORM_TARGETS else (deploy_to if deploy_to in PLATFORM_TARGETS else "aws")
    region = resolve_region(region_target, options.region or (plan.region if plan else "tokyo"),
                            explicit=options.region is not None)
    if region.note:
        warnings.append(region.note)
    websocket = options.websocket if options.websocket is not None else (
        plan.needs_websocket(phase) if plan else True)
    entry = _entry_for(target, phase, plan, options)
    why = ("--websocket" if options.websocket else f"the plan ({plan.source})" if plan
           else "the reference service")
    _check_websocket(target, entry, websocket, why)
    origins = options.allowed_origins
    if not origins:
        origins = (PLACEHOLDER_ORIGIN,)
        warnings.append(f"no --allowed-origin given: CORS allows {PLACEHOLDER_ORIGIN}, a placeholder; "
                        f"render again with your front end's origin")
    source = f"{plan.source}, phase {phase.name}" if plan and phase else "flags and defaults"
    billing = options.billing or ("request" if entry == "gcp.cloud-run" else "instance")
    return DeployConfig(
        target=target, app=app, env=options.env, region=region.name, region_code=region.code,
        compute=_compute(target, options, plan, phase, websocket, entry), database=_database(options, phase),
        cache=_cache(options, phase), lifecycle=Lifecycle(options.session_files_days), websocket=websocket,
        ha=bool(phase.usage.get("ha")) if phase else options.env == "production", allowed_origins=origins,
        github_repo=options.github_repo, deploy_to=deploy_to, source=source,
        phase=phase.name if phase else None, billing=billing, image_tag=options.image_tag,
        out_dir=options.out_dir, warnings=tuple(warnings))
