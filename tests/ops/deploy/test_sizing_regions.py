"""The rules that turn a plan's numbers into sizes each platform accepts, and regions into its codes."""

from __future__ import annotations

import pytest

from hashigo.ops.deploy import sizing
from hashigo.ops.deploy.errors import DeployInputError
from hashigo.ops.deploy.regions import resolve_region


@pytest.mark.parametrize(("vcpu", "memory", "expected"), [
    (0.25, 0.5, (256, 512)), (0.5, 1, (512, 1024)), (0.5, 3, (512, 3072)), (0.6, 1, (1024, 2048)),
    (1, 9, (2048, 9216)), (4, 30, (4096, 30720)), (64, 500, (16384, 122880)),
])
def test_fargate_sizes_are_the_smallest_valid_combination(vcpu: float, memory: float,
                                                          expected: tuple[int, int]) -> None:
    assert sizing.fargate_size(vcpu, memory) == expected


def test_cloud_run_render_and_fly_sizes() -> None:
    assert sizing.cloud_run_size(0.5, 1) == ("1", "1Gi")
    assert sizing.cloud_run_size(1.5, 0.3) == ("2", "512Mi")
    assert sizing.cloud_run_size(1, 9) == ("1", "4Gi")  # one vCPU allows at most 4 GiB
    assert sizing.render_plan(0.5, 1, free=False) == "standard"
    assert sizing.render_plan(0.1, 0.5, free=True) == "free"
    assert sizing.fly_memory_mb(0.3) == 512


def test_aurora_capacity_comes_from_the_plans_database() -> None:
    assert sizing.acu_for("aws.aurora-serverless-v2", None,
                          [{"component": "database", "kind": "acu_hours", "quantity": 2190}]) == 3
    assert sizing.acu_for("aws.rds-postgres", "db.t4g.medium", []) == 2
    assert sizing.acu_for(None, None, []) is None
    assert sizing.acu_range(None, production=True) == (0.5, 4)
    assert sizing.acu_range(2, production=True) == (0.5, 4)
    assert sizing.acu_range(3, production=True) == (0.5, 8)
    assert sizing.acu_range(500, production=True) == (0.5, 128)
    assert sizing.acu_range(3, production=False) == (0.5, 2)


def test_instances_keep_the_plans_count_and_room_for_its_peak() -> None:
    assert sizing.instances(planned=1, busy_vcpu_peak=1.16, vcpu=0.5, utilization=0.6, websockets=0,
                            per_instance=5000, production=True, ha=False) == (1, 8)
    assert sizing.instances(planned=1, busy_vcpu_peak=0, vcpu=0.5, utilization=0.6, websockets=0,
                            per_instance=5000, production=True, ha=True) == (2, 4)
    assert sizing.instances(planned=1, busy_vcpu_peak=0.1, vcpu=1, utilization=0.6, websockets=60_000,
                            per_instance=5000, production=True, ha=False) == (1, 24)
    assert sizing.instances(planned=9, busy_vcpu_peak=9, vcpu=1, utilization=0.6, websockets=0,
                            per_instance=5000, production=False, ha=True) == (1, 2)


def test_regions_by_name_or_code_and_the_nearest_fallback() -> None:
    assert resolve_region("aws", "tokyo", explicit=True).code == "ap-northeast-1"
    assert resolve_region("cloudrun", "asia-northeast1", explicit=True).name == "tokyo"
    assert resolve_region("fly", "tokyo", explicit=False).code == "nrt"
    fallback = resolve_region("render", "tokyo", explicit=False)
    assert (fallback.code, fallback.note) == ("singapore", "Render has no tokyo region (it has no region in Japan): "
                                                           "using singapore (singapore), the nearest it has")
    with pytest.raises(DeployInputError, match="Render has no such region"):
        resolve_region("render", "tokyo", explicit=True)
    with pytest.raises(DeployInputError, match="accepted: singapore"):
        resolve_region("railway", "mars", explicit=True)
