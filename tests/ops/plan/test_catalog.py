"""The shipped catalog: complete records, sources, unconfirmed marks, staleness, overrides."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from hashigo.ops.plan.catalog import apply_override_file, load_builtin
from hashigo.ops.plan.catalog_schema import COMPONENTS
from hashigo.ops.plan.errors import PlanInputError
from tests.ops.plan.helpers import cost, requirements, write_yaml

ISSUE_PROVIDERS = {
    "compute": {"Fly.io", "Render", "Railway", "Google Cloud", "AWS", "Cloudflare"},
    "frontend": {"Vercel", "Cloudflare"},
    "database": {"Supabase", "Neon", "Railway", "Fly.io", "AWS", "Google Cloud"},
    "cache": {"Upstash", "AWS", "Google Cloud"},
    "storage": {"Supabase", "Cloudflare", "AWS", "Google Cloud"},
    "cdn": {"Cloudflare", "AWS"},
    "document_db": {"MongoDB"},
    "ai": {"Modal", "Hugging Face", "Replicate", "AWS", "Google Cloud", "Google"},
}


def test_every_entry_is_complete_and_sourced() -> None:
    catalog = load_builtin()
    assert len(catalog.entries) >= 45
    for entry in catalog.entries.values():
        assert entry.component in COMPONENTS
        assert entry.regions, entry.id
        assert entry.source.url.startswith("https://"), entry.id
        assert date(2025, 1, 1) <= entry.source.read <= date(2026, 12, 31), entry.id
        assert entry.meters or entry.sizes or entry.base_usd_per_month or entry.limits, entry.id
    for component, providers in ISSUE_PROVIDERS.items():
        found = {e.provider for e in catalog.by_component(component)}  # type: ignore[arg-type]
        assert providers <= found, (component, providers - found)


def test_reference_prices_are_transcribed_and_marked() -> None:
    entries = load_builtin().entries
    fargate = {m.meter: m.price for m in entries["aws.fargate"].meters}
    assert fargate == {"vcpu_hours": 0.05056, "memory_gb_hours": 0.005536}
    assert not entries["aws.fargate"].is_unconfirmed()
    supabase_free = entries["supabase.free"]
    assert [(x.quantity, x.max) for x in supabase_free.limits] == [("database_gb", 0.5)]
    assert "singapore" in entries["render.paid"].regions and "tokyo" not in entries["render.paid"].regions
    assert [r.kind for r in entries["vercel.hobby"].restrictions] == ["non_commercial"]
    r2 = {m.meter: (m.price, m.free) for m in entries["cloudflare.r2"].meters}
    assert r2["storage_gb"] == (0.015, 10) and r2["egress_gb"] == (0, 0)
    # Prices that reference-prices.md marks UNCONFIRMED (or does not have) are marked here too.
    for unconfirmed in ("gcp.memorystore-basic", "aws.rds-postgres", "modal.a10g", "cloudflare.cdn-free"):
        assert entries[unconfirmed].is_unconfirmed(), unconfirmed
    s3 = {m.meter: m for m in entries["aws.s3"].meters}
    assert s3["egress_gb"].unconfirmed is True and s3["storage_gb"].unconfirmed is None


def test_stale_after_180_days_exactly() -> None:
    catalog = load_builtin()
    year_only = date(2026, 1, 1)     # reference-prices.md: "read in 2026" → the earliest date is assumed
    assert catalog.entries["aws.fargate"].source.read == year_only
    at_180 = {s.entry_id for s in catalog.stale(year_only + timedelta(days=180))}
    at_181 = {s.entry_id for s in catalog.stale(year_only + timedelta(days=181))}
    assert "aws.fargate" not in at_180
    assert "aws.fargate" in at_181
    assert "upstash.free" not in at_181          # read 2026-09: 60 days old then


def test_override_price_wins_and_cites_the_override(tmp_path: Path) -> None:
    prices = write_yaml(tmp_path / "hashigo-prices.yaml", {"entries": [{
        "id": "aws.fargate",
        "meters": [{"meter": "vcpu_hours", "price": 0.04}],
        "source": {"url": "contract:ACME-EDP-2026", "read": "2026-11-20", "kind": "override"},
    }]})
    catalog = apply_override_file(load_builtin(), prices)
    assert catalog.overridden == {"aws.fargate"}
    meters = {m.meter: m for m in catalog.entries["aws.fargate"].meters}
    assert meters["vcpu_hours"].price == 0.04
    assert meters["vcpu_hours"].source is not None and meters["vcpu_hours"].source.url == "contract:ACME-EDP-2026"
    # The memory price was not overridden: it keeps the catalog's price and the catalog's source.
    assert meters["memory_gb_hours"].price == 0.005536
    assert meters["memory_gb_hours"].source is not None
    assert meters["memory_gb_hours"].source.url == "https://aws.amazon.com/fargate/pricing/"


def test_override_needs_a_source_and_validates(tmp_path: Path) -> None:
    no_source = write_yaml(tmp_path / "a.yaml", {"entries": [{"id": "aws.fargate", "base_usd_per_month": 1}]})
    with pytest.raises(PlanInputError) as caught:
        apply_override_file(load_builtin(), no_source)
    assert caught.value.problems == [f"{no_source}:entries[0](aws.fargate).source: required when patching a "
                                     "catalog entry (a URL or e.g. 'contract:NAME', and the date read)"]
    bad = write_yaml(tmp_path / "b.yaml", {"entries": [{
        "id": "aws.fargate", "source": {"url": "contract:x", "read": "2026-11-01"},
        "meters": [{"meter": "vcpu_hour", "price": -1}]}]})
    with pytest.raises(PlanInputError) as caught:
        apply_override_file(load_builtin(), bad)
    text = "\n".join(caught.value.problems)
    assert f"{bad}:entries[0](aws.fargate).meters[2].meter: Input should be 'instance_months'" in text
    assert f"{bad}:entries[0](aws.fargate).meters[2].price: Input should be greater than or equal to 0 (got -1)" \
        in text


def test_new_entry_and_stack_from_the_override_file(tmp_path: Path) -> None:
    prices = write_yaml(tmp_path / "p.yaml", {
        "entries": [{
            "id": "sakura.apprun", "provider": "Sakura", "service": "AppRun", "plan": "beta", "component": "compute",
            "regions": ["tokyo"], "capabilities": ["cli", "container", "websocket", "autoscaling"],
            "sizes": [{"name": "1 vCPU 1 GB", "vcpu": 1, "memory_gb": 1, "usd_per_month": 3.0}],
            "source": {"url": "https://example.com/quote", "read": "2026-11-30"}}],
        "stacks": [{"id": "sakura", "name": "Sakura AppRun + Supabase",
                    "slots": {"compute": ["sakura.apprun"], "database": ["supabase.free", "supabase.pro"],
                              "cache": ["upstash.pay-as-you-go"], "storage": ["cloudflare.r2"],
                              "frontend": ["cloudflare.pages-free"], "cdn": ["cloudflare.cdn-free"]},
                    "files_egress_via": "cdn"}]})
    catalog = apply_override_file(load_builtin(), prices)
    assert "sakura" in catalog.stacks and catalog.origin["sakura.apprun"] == str(prices)
    broken = write_yaml(tmp_path / "q.yaml", {"stacks": [{"id": "x", "name": "x", "slots": {"compute": ["nope"]},
                                                        "files_egress_via": "compute"}]})
    with pytest.raises(PlanInputError) as caught:
        apply_override_file(load_builtin(), broken)
    assert caught.value.problems == [f"{broken}:stacks(x).slots.compute: unknown entry 'nope'"]


def test_override_changes_the_cost_of_a_plan_line(tmp_path: Path) -> None:
    req = requirements()
    before = cost("aws.fargate", req).monthly
    prices = write_yaml(tmp_path / "p.yaml", {"entries": [{
        "id": "aws.fargate", "meters": [{"meter": "vcpu_hours", "price": 0.0}],
        "source": {"url": "contract:free-credits", "read": "2026-11-20"}}]})
    import tests.ops.plan.helpers as helpers

    saved = helpers._CATALOG
    helpers._CATALOG = apply_override_file(load_builtin(), prices)
    try:
        after = cost("aws.fargate", req)
    finally:
        helpers._CATALOG = saved
    assert before == pytest.approx(365 * 0.05056 + 730 * 0.005536)
    assert after.monthly == pytest.approx(730 * 0.005536)
    vcpu = next(x for x in after.lines if x.kind == "vcpu_hours")
    assert vcpu.overridden is False  # flagged in the CLI via catalog.overridden; the Context here has none
