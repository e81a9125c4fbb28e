"""Worked examples: every expected figure is computed here by hand from the catalog's prices.

The prices are repeated as literals on purpose: if someone edits the catalog, these tests say which
worked example changed, instead of silently following the new number.
"""

from __future__ import annotations

import math

import pytest

from hashigo.ops.plan.demand import demand_at
from hashigo.ops.plan.engine import context_for
from hashigo.ops.plan.stack_cost import evaluate_stack
from tests.ops.plan.helpers import catalog, cost, line, requirements

DAYS = 730 / 24  # the plan's month: 730 hours


def test_fargate_task_hours_from_load() -> None:
    req = requirements(users={"mau": 10_000, "dau": 2_000},
                       traffic={"requests_per_dau": 100, "cpu_ms_per_request": 50, "peak_factor": 3,
                                "instance_vcpu": 0.5, "instance_memory_gb": 1})
    requests = 2_000 * 100 * DAYS                    # 6,083,333 requests a month
    average_rps = requests / (730 * 3600)            # 2.31 requests/s
    busy_vcpu = average_rps * 0.050 / 0.6            # 0.19 vCPU at 60% utilisation
    tasks = max(1, math.ceil(busy_vcpu / 0.5))       # autoscaling bills the average: 1 task of 0.5 vCPU
    assert tasks == 1
    result = cost("aws.fargate", req)
    assert result.fits
    assert line(result, "vcpu_hours").quantity == pytest.approx(tasks * 730 * 0.5)           # 365 vCPU-h
    assert line(result, "vcpu_hours").cost == pytest.approx(365 * 0.05056)                   # $18.45
    assert line(result, "memory_gb_hours").cost == pytest.approx(tasks * 730 * 1 * 0.005536)  # $4.04
    assert result.monthly == pytest.approx(18.4544 + 4.04128)


def test_peak_load_sizes_render_which_does_not_autoscale_on_free() -> None:
    # Render Free: one 0.1 vCPU instance; Render paid sizes are billed per instance-month.
    req = requirements(users={"mau": 50_000, "dau": 10_000}, must_have=["cli", "container"],
                       traffic={"requests_per_dau": 100, "cpu_ms_per_request": 20, "instance_memory_gb": 0.5})
    peak_rps = 10_000 * 100 * DAYS / (730 * 3600) * 3   # 34.7 requests/s at peak
    busy_peak = peak_rps * 0.020 / 0.6                   # 1.16 vCPU
    busy_average = busy_peak / 3                         # 0.39 vCPU; paid Render autoscales on the average
    starter = max(1, math.ceil(busy_average / 0.5)) * 7.00    # Starter: 0.5 vCPU, 512 MB, $7
    standard = max(1, math.ceil(busy_average / 1)) * 25.00    # Standard: 1 vCPU, 2 GB, $25
    result = cost("render.paid", req)
    assert result.size == "Starter"
    assert result.monthly == pytest.approx(min(starter, standard)) == pytest.approx(7.00)
    free = cost("render.free", req)
    # 750 instance-hours a month is the free limit; the peak needs ceil(1.16 / 0.1) = 12 instances all month.
    assert not free.fits
    assert any(f"{12 * 730:,} instance-hours/month > 750" in r for r in free.reasons), free.reasons


def test_cloudfront_tiers_after_the_free_terabyte() -> None:
    result = cost("aws.cloudfront", requirements(), egress_gb=20_480)   # 20 TB of downloads
    first_tier = (10_240 - 1_024) * 0.114    # 1 TB always free, then $0.114/GB up to 10 TB
    second_tier = (20_480 - 10_240) * 0.089  # $0.089/GB from 10 TB to 50 TB
    egress = [x for x in result.lines if x.kind == "egress_gb"]
    assert [round(x.cost, 2) for x in egress] == [round(first_tier, 2), round(second_tier, 2)]
    assert result.monthly == pytest.approx(first_tier + second_tier)  # $1,961.98


def test_supabase_pro_credit_size_and_extra_disk() -> None:
    req = requirements(database={"size_gb": 12})
    working_set = 12 * 0.25                      # 3 GB: Micro (1 GB) and Small (2 GB) are too small
    assert working_set == 3
    expected = 25.00 + 60.00 - 10.00 + (12 - 8) * 0.125   # plan fee + Medium − compute credit + disk over 8 GB
    result = cost("supabase.pro", req)
    assert result.size == "Medium"
    assert line(result, "credit").cost == pytest.approx(-10.00)
    assert line(result, "database_gb").cost == pytest.approx(0.50)
    assert result.monthly == pytest.approx(expected)   # $75.50


def test_upstash_pay_as_you_go_commands() -> None:
    req = requirements(users={"mau": 5_000, "dau": 1_000}, traffic={"requests_per_dau": 100},
                       cache={"memory_gb": 0.05, "commands_per_request": 2})
    commands = 1_000 * 100 * DAYS * 2              # 6,083,333 commands
    result = cost("upstash.pay-as-you-go", req)
    assert line(result, "cache_commands").cost == pytest.approx(commands * 0.20 / 100_000)   # $12.17
    # 0.05 GB stored is inside the free 1 GB: priced at $0.
    assert line(result, "cache_gb").cost == 0
    free = cost("upstash.free", req)
    assert not free.fits and "cache commands 6,083,333 commands/month > 500,000" in free.reasons[0]


def test_lambda_free_tier_comes_off_first() -> None:
    req = requirements(users={"mau": 10_000, "dau": 2_000}, must_have=["cli"],
                       traffic={"requests_per_dau": 100, "cpu_ms_per_request": 50, "instance_vcpu": 0.5,
                                "instance_memory_gb": 1})
    requests = 2_000 * 100 * DAYS
    billed_seconds = requests * 0.050 / 0.6 / 0.5    # instance-seconds at 60% utilisation, 0.5 vCPU each
    gb_seconds = billed_seconds * 1                  # 1 GB functions
    result = cost("aws.lambda", req)
    assert line(result, "requests").cost == pytest.approx((requests - 1_000_000) * 0.20 / 1_000_000)
    assert line(result, "gb_seconds").cost == pytest.approx((gb_seconds - 400_000) * 0.0000166667)


def test_aurora_floor_and_ha_doubles_the_nodes() -> None:
    req = requirements()
    single = cost("aws.aurora-serverless-v2", req)
    # Load is tiny: the 0.5 ACU floor rules. 0.5 ACU × 730 h × $0.15 = $54.75, plus 0.2 GB × $0.10.
    assert line(single, "acu_hours").cost == pytest.approx(0.5 * 730 * 0.15)
    assert single.monthly == pytest.approx(54.75 + 0.2 * 0.10)
    ha = cost("aws.aurora-serverless-v2", req, ha=True, must_have=("cli", "ha"))
    assert line(ha, "acu_hours").cost == pytest.approx(2 * 0.5 * 730 * 0.15)   # writer + reader: $109.50


def test_railway_plan_fee_includes_usage_across_services() -> None:
    req = requirements(users={"mau": 1_000, "dau": 200}, must_have=["cli", "container"],
                       traffic={"requests_per_dau": 100, "cpu_ms_per_request": 20, "instance_memory_gb": 0.5},
                       database={"size_gb": 1, "cpu_ms_per_request": 2}, cache={"memory_gb": 0.05},
                       egress={"api_gb_per_month": 2, "files_gb_per_month": 10}, frontend={"kind": "none"})
    result = evaluate_stack(catalog().stacks["railway"], catalog(), demand_at(req, 1_000), context_for(req, catalog()))
    assert result.fits, result.reasons
    average_rps = 200 * 100 * DAYS / (730 * 3600)
    app = average_rps * 0.020 * 20 + 1 * 0.5 * 10 + 2 * 0.05   # CPU used × $20 + 0.5 GB × $10 + 2 GB API × $0.05
    database = (average_rps * 0.002 / 0.6 * 0.6) * 20 + 0.5 * 10 + 1 * 0.15   # CPU used, 0.5 GB working set, 1 GB
    redis = 0.05 * 10
    usage = app + database + redis                          # ≈ $10.75 of usage
    credit = min(5.00, usage)                               # Hobby's $5 covers the first $5 of all of it
    expected = 5.00 + usage - credit
    assert result.choices["compute"].entry.id == "railway.hobby"
    assert result.component_cost("compute") + result.component_cost("database") + result.component_cost("cache") \
        == pytest.approx(expected)


def test_a_total_is_the_sum_of_its_line_items() -> None:
    req = requirements()
    result = evaluate_stack(catalog().stacks["aws-fargate"], catalog(), demand_at(req, 5_000),
                            context_for(req, catalog()))
    assert result.fits
    assert result.monthly == pytest.approx(sum(x.cost for x in result.lines))
    for item in result.lines:
        assert item.source.url and item.source.read, item
        if item.kind not in {"base", "credit"}:
            billable = max(0.0, item.quantity - item.free)
            if "tier" not in item.item and "capped" not in item.item:
                assert item.cost == pytest.approx(billable * item.unit_price / item.per), item
