"""Hard limits, region and must-have exclusions, restrictions: each refusal says why."""

from __future__ import annotations

from hashigo.ops.plan.demand import demand_at
from hashigo.ops.plan.engine import build_plan, context_for
from hashigo.ops.plan.stack_cost import evaluate_stack
from tests.ops.plan.helpers import catalog, cost, requirements

TODAY = __import__("datetime").date(2026, 12, 2)


def test_supabase_free_database_over_500_mb_is_refused_with_the_numbers() -> None:
    result = cost("supabase.free", requirements(database={"size_gb": 2.1}))
    assert not result.fits
    assert result.reasons == ["Supabase Postgres Free: database 2.1 GB > 0.5 GB limit "
                              "(the database turns read-only beyond it)"]
    assert cost("supabase.free", requirements(database={"size_gb": 0.4})).fits


def test_growth_warns_before_the_limit_is_reached() -> None:
    result = cost("supabase.free", requirements(database={"size_gb": 0.2, "growth_gb_per_month": 0.05}))
    assert result.fits
    # (0.5 − 0.2) / 0.05 = 6 months of headroom
    assert any("database reaches the 0.5 GB limit in ~6 months" in w for w in result.warnings), result.warnings


def test_render_has_no_japan_region() -> None:
    req = requirements(must_have=["cli", "container", "japan_region"])
    refused = cost("render.paid", req)
    assert refused.reasons == ["Render Web Service paid instances: no Japan region "
                               "(offers us-west, us-east, eu-central, singapore)"]
    # Without the must-have it fits, and the plan says it runs outside Tokyo.
    allowed = cost("render.paid", requirements(must_have=["cli", "container"]))
    assert allowed.fits
    assert any("runs outside tokyo" in w for w in allowed.warnings)


def test_vercel_hobby_is_refused_for_commercial_use() -> None:
    req = requirements(frontend={"kind": "nextjs"})
    refused = cost("vercel.hobby", req, commercial=True)
    assert not refused.fits and "non-commercial use only, and the app is commercial" in refused.reasons[0]
    assert cost("vercel.hobby", req, commercial=False).fits


def test_the_seed_002_stack_pays_for_vercel_pro_when_commercial() -> None:
    req = requirements(must_have=["cli", "container"], frontend={"kind": "nextjs", "seats": 2},
                       users={"mau": 50, "dau": 20}, database={"size_gb": 0.05}, storage={"size_gb": 0.2},
                       cache={"memory_gb": 0.001, "commands_per_request": 1},
                       traffic={"requests_per_dau": 100, "instance_memory_gb": 0.5},
                       egress={"api_gb_per_month": 0.5, "files_gb_per_month": 1})
    stack = catalog().stacks["vercel-render-supabase"]
    commercial = evaluate_stack(stack, catalog(), demand_at(req, 50), context_for(req, catalog()))
    assert commercial.choices["frontend"].entry.id == "vercel.pro"
    assert commercial.component_cost("frontend") == 2 * 20.00          # two seats × $20
    beta = evaluate_stack(stack, catalog(), demand_at(req, 50), context_for(req, catalog(), commercial=False))
    assert beta.choices["frontend"].entry.id == "vercel.hobby"
    assert beta.monthly == 0.0            # seed 002 Phase 1: $0/month on free tiers
    # Supabase Storage Free allows 5 GB of downloads; 10 GB refuses it, and because the storage plan
    # must match the project's plan, the database moves to Pro too: $25.
    more = req.model_copy(update={"egress": req.egress.model_copy(update={"files_gb_per_month": 10})})
    busy = evaluate_stack(stack, catalog(), demand_at(more, 50), context_for(more, catalog(), commercial=False))
    assert busy.choices["storage"].entry.id == "supabase.storage-pro"
    assert busy.choices["database"].entry.id == "supabase.pro"
    assert busy.monthly == 25.00


def test_websockets_and_containers_exclude_serverless_functions() -> None:
    ws = requirements(must_have=["cli"], websocket={"concurrent": 200})
    lam = cost("aws.lambda", ws)
    assert lam.reasons == ["AWS Lambda x86 on-demand: no long-lived WebSockets, and the app holds 200 at peak"]
    workers = cost("cloudflare.workers-paid", requirements(must_have=["cli", "container"]))
    assert "does not run the app's container" in workers.reasons[0]


def test_realtime_ai_latency_budget_excludes_slow_providers() -> None:
    req = requirements(ai={"mode": "realtime", "via": "gpu", "latency_budget_ms": 500})
    replicate = cost("replicate.t4", req)
    assert replicate.reasons == ["Replicate Predictions Nvidia T4, per second: typical response 1,000 ms > "
                                 "500 ms budget"]
    modal = cost("modal.a10g", req)
    assert modal.fits
    gemini = cost("google.gemini-flash", req)
    assert gemini.reasons == ["Google Gemini API Flash, paid tier: a hosted API, and ai.via is gpu"]


def test_expansion_region_refuses_compute_without_it() -> None:
    req = requirements(expansion={"regions": ["jakarta"], "from_phase": "scale"})
    plan = build_plan(req, catalog(), TODAY, "test")
    scale = plan.phases[-1]
    assert scale.context.expansion_regions == ("jakarta",)
    assert plan.phases[0].context.expansion_regions == ()
    fly = next(c for c in scale.refused if c.stack.id == "fly-postgres")
    assert any("no region in jakarta for the planned expansion" in r for r in fly.reasons)


def test_phase_with_no_fitting_stack_is_reported_not_hidden() -> None:
    req = requirements(ai={"mode": "realtime", "via": "gpu", "latency_budget_ms": 50})
    plan = build_plan(req, catalog(), TODAY, "test")
    assert not plan.complete
    assert all(p.chosen is None for p in plan.phases)
    assert any("typical response" in r for c in plan.phases[0].refused for r in c.reasons)


def test_over_budget_is_flagged() -> None:
    req = requirements(phases=[{"name": "only", "up_to_mau": 5000, "budget_usd": 1}])
    plan = build_plan(req, catalog(), TODAY, "test")
    assert plan.phases[0].over_budget
    assert "over the $1.00 budget" in plan.phases[0].warnings[0]


def test_a_phase_keeps_the_previous_stack_when_it_is_nearly_as_cheap() -> None:
    moving = build_plan(requirements(plan={"stay_within": 0}), catalog(), TODAY, "test")
    staying = build_plan(requirements(plan={"stay_within": 10}), catalog(), TODAY, "test")
    launch, growth = moving.phases[0].chosen, moving.phases[1].chosen
    assert launch is not None and growth is not None and launch.stack.id != growth.stack.id
    kept = staying.phases[1]
    assert kept.chosen is not None and kept.chosen.stack.id == launch.stack.id
    assert kept.why_chosen.startswith("kept from the previous phase")
    assert not [s for s in staying.migrations[0].steps if s.action == "move"]
