"""The seeds' own estimates: the plan lands in their range, or explains the difference line by line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hashigo.ops.plan.engine import build_plan
from hashigo.ops.plan.errors import load_yaml_mapping
from hashigo.ops.plan.planning import template_text
from hashigo.ops.plan.reference import compare_reference
from hashigo.ops.plan.requirements import parse_requirements
from tests.ops.plan.helpers import catalog, invoke, plan_json

TODAY = date(2026, 12, 2)


def example(name: str):  # type: ignore[no-untyped-def]
    return parse_requirements(load_yaml_mapping(name, template_text(name)), name)


def test_seed_003_aws_line_by_line() -> None:
    comparison = compare_reference(example("seed003-aws"), catalog())
    assert comparison is not None and comparison.plan.fits
    lines = {line.component: line for line in comparison.lines}
    # Hand arithmetic, Tokyo prices from the catalog (1,000 users, 100 DAU, 50 requests each a day):
    fargate = 730 * 0.5 * 0.05056 + 730 * 1 * 0.005536            # one 0.5 vCPU / 1 GB task all month: $22.50
    requests = 100 * 50 * 730 / 24                                 # 152,083 requests a month
    lcu = requests / (730 * 3600) / 25                             # new connections/s ÷ 25
    alb = 730 * 0.0243 + lcu * 730 * 0.008                         # $17.74 + a cent of LCUs
    elasticache = 730 * 0.017                                      # cache.t3.micro: $12.41
    s3 = 1.5 * 0.025 + (100 * 3 * 730 / 24) * 0.0047 / 1000 + (100 * 10 * 730 / 24) * 0.00037 / 1000
    cloudfront = 0.0                                               # 10 GB ≤ the always-free 1 TB
    assert lines["compute"].plan_usd == pytest.approx(fargate)
    assert lines["load_balancer"].plan_usd == pytest.approx(alb)
    assert lines["cache"].plan_usd == pytest.approx(elasticache)
    assert lines["storage"].plan_usd == pytest.approx(s3)
    assert lines["cdn"].plan_usd == pytest.approx(cloudfront)
    total = fargate + alb + elasticache + s3 + cloudfront           # ≈ $52.75 against the seed's "約 $28"
    assert comparison.plan_total == pytest.approx(total)
    assert not comparison.in_range
    # ... so every line says why: the seed's figure, ours, the formula and the source.
    assert lines["compute"].reference_usd == 15 and lines["compute"].difference == pytest.approx(fargate - 15)
    assert lines["load_balancer"].reference_usd is None
    assert "not in the reference estimate; the plan has it because: Fargate tasks have no stable public address" \
        in " ".join(lines["load_balancer"].explanation)
    assert any("always-free 1 TB" in e for e in lines["cdn"].explanation)
    for line in comparison.lines:
        assert any(" = $" in e and "read " in e for e in line.explanation), line
    explained = sum(line.difference for line in comparison.lines)
    assert explained == pytest.approx(comparison.plan_total - (12 + 0.03 + 0.90 + 15))


def test_seed_003_gcp_reference() -> None:
    comparison = compare_reference(example("seed003-gcp"), catalog())
    assert comparison is not None and comparison.plan.fits
    lines = {line.component: line for line in comparison.lines}
    assert lines["cache"].plan_usd == pytest.approx(1 * 730 * 0.0411)   # the seed's own $30 for Basic 1 GB
    # Request-based Cloud Run stays inside the free tier at this size (180,000 vCPU-s, 2M requests).
    assert lines["compute"].plan_usd == pytest.approx(0.0)
    writes, reads = 100 * 3 * 730 / 24, 100 * 10 * 730 / 24      # 9,125 and 30,417 operations a month
    assert lines["storage"].plan_usd == pytest.approx(1.5 * 0.023 + 10 * 0.12 + writes * 0.05 / 10_000
                                                      + reads * 0.004 / 10_000)
    assert comparison.in_range, comparison.verdict()                   # $40 ± 25%


def test_seed_002_phases_and_budgets() -> None:
    plan = build_plan(example("seed002"), catalog(), TODAY, "seed002")
    mvp, beta, production = plan.phases
    assert mvp.chosen is not None and mvp.chosen.monthly == 0.0        # seed 002 §2: $0/month
    assert mvp.chosen.choices["frontend"].entry.id == "vercel.hobby"  # non-commercial beta
    assert beta.chosen is not None and not beta.over_budget            # seed 002 §3: ≤ $60/month
    assert production.chosen is not None
    assert production.chosen.stack.id in {"aws-fargate", "cloud-run"}  # HA + autoscaling: AWS or GCP
    assert 260 * 0.5 <= production.chosen.monthly <= 500 * 1.5, production.chosen.monthly


def test_seed_example_through_the_cli(tmp_path: Path) -> None:
    assert invoke(tmp_path, "init", "--example", "seed003-aws").returncode == 0
    data = plan_json(tmp_path)
    reference = data["reference"]
    assert reference["stack"] == "aws-fargate" and reference["reference_total_usd"] == 28
    assert reference["verdict"].startswith("plan $52.7")
    text = invoke(tmp_path).stdout
    assert "Reference: seed 003" in text and "not in the reference" in text
