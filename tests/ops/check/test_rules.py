"""The rules file: the seeds' thresholds as defaults, `check init`, patching by name, and malformed
rules refused with exit 4 and a line naming the rule and the field."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
import yaml

from hashigo.ops.check.loading import builtin_text, load_rules
from hashigo.ops.check.metrics import METRICS, MetricName
from tests.ops.check.helpers import SKIP_AUTO, as_json, invoke, rule


def test_metric_names_are_one_list() -> None:
    assert set(typing.get_args(MetricName)) == set(METRICS)


def test_builtin_rules_carry_the_seed_thresholds(tmp_path: Path) -> None:
    rules, name = load_rules(None, tmp_path)
    assert name == "built-in rules"
    expected = {  # seed 004 §移行タイミングの判断指標, seed 002 §スケーリングのサイン
        "dau": ("dau", 1000, 10000), "latency-avg": ("latency_avg_ms", 300, 500), "bill": ("bill_usd", 100, 500),
        "db-connections": ("db_connections", 100, 400), "error-rate": ("error_rate_pct", 0.1, 1),
        "db-size-of-plan": ("db_size_gb", 80, 95), "active-users": ("active_users", 500, None),
        "page-views": ("page_views_month", 100000, None), "requests-of-plan": ("requests_month", 80, 95),
    }
    for name_, (metric, consider, required) in expected.items():
        got = rules.rules[name_]
        assert (got.metric, got.consider, got.required) == (metric, consider, required), name_
    assert rules.rules["db-size-of-plan"].limit == "plan"
    assert rules.rules["latency-avg"].sustained == "3 of 7 days"
    assert "seed 004" in rules.rules["latency-avg"].seed and "seed 002" in rules.rules["db-size-of-plan"].seed


def test_init_writes_the_commented_defaults_and_refuses_to_overwrite(tmp_path: Path) -> None:
    result = invoke(tmp_path, "init")
    assert result.returncode == 0, result.stderr
    written = tmp_path / "hashigo-check.yaml"
    assert written.read_text() == builtin_text()
    assert "# A rule:" in written.read_text() and "sustained" in written.read_text()
    # Found by default in the working folder, and equal to the built-in rules.
    from_file, name = load_rules(None, tmp_path)
    assert name.endswith("hashigo-check.yaml")
    assert from_file.rules == load_rules(None, tmp_path / "nowhere")[0].rules
    again = invoke(tmp_path, "init")
    assert again.returncode == 4 and "--force" in again.stderr
    assert invoke(tmp_path, "init", "--force").returncode == 0


def test_a_user_file_patches_rules_by_name(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump({
        "rules": {"latency-avg": {"required": 800}, "bill": False,
                  "signups": {"metric": "dau", "consider": 5, "seed": "ours"}},
    }))
    rules, _ = load_rules(tmp_path / "mine.yaml", tmp_path)
    assert rules.rules["latency-avg"].required == 800 and rules.rules["latency-avg"].consider == 300
    assert "bill" not in rules.rules and rules.rules["signups"].consider == 5
    assert "dau" in rules.rules  # the others stay


MALFORMED = [
    ({"rules": {"slow": {"metric": "latency_avg_ms", "consider": 900, "required": 500}}},
     "rules.slow.consider: must be at most required (500)"),
    ({"rules": {"slow": {"metric": "latency", "consider": 1}}},
     "rules.slow.metric: 'latency' is not accepted; accepted: request_rate, requests_per_day"),
    ({"rules": {"slow": {"metric": "latency_avg_ms", "consider": 1, "sustained": "three of seven days"}}},
     "rules.slow.sustained: 'three of seven days' is not a window; accepted: 'N of M days'"),
    ({"rules": {"slow": {"metric": "latency_avg_ms", "consider": 1, "sustained": "8 of 7 days"}}},
     "rules.slow.sustained: '8 of 7 days': N must be at least 1 and at most M"),
    ({"rules": {"slow": {"metric": "latency_avg_ms", "consider": 1, "treshold": 2}}},
     "rules.slow.treshold: unknown field; accepted: aggregate, consider, direction"),
    ({"rules": {"slow": {"metric": "latency_avg_ms"}}}, "rules.slow.consider: give a consider or a required"),
    ({"rules": {"slow": {"metric": "latency_avg_ms", "consider": "fast"}}},
     "rules.slow.consider: Input should be a valid number"),
    ({"rules": {"slow": {"metric": "db_size_gb", "consider": 1, "limit": "moon"}}},
     "rules.slow.limit: accepted: plan, server, or a number"),
    ({"rules": {"slow": "fast please"}}, "rules.slow: must be a mapping of fields, or false"),
    ({"rules": {"cache": {"metric": "db_cache_hit_pct", "direction": "below", "consider": 80, "required": 95}}},
     "rules.cache.consider: must be at least required (95) when direction is below"),
    ({"limits": {"database": 8}}, "limits: unknown quantity database; accepted: cache_commands"),
    ({"sources": {"billing": {"monthly_usd": 3, "csv": "bill.csv"}}},
     "sources.billing.monthly_usd: give exactly one of monthly_usd or csv"),
    ({"sources": {"service": {"sample_seconds": 0}}}, "sources.service.sample_seconds: Input should be greater"),
]


@pytest.mark.parametrize(("content", "expected"), MALFORMED, ids=[m[1].split(":")[0] for m in MALFORMED])
def test_malformed_rules_name_the_rule_and_field(tmp_path: Path, content: dict[str, object], expected: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(content))
    result = invoke(tmp_path, "--rules", str(path), *SKIP_AUTO)
    assert result.returncode == 4, result.stdout + result.stderr
    assert f"{path}:{expected}" in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  slow:\n    metric: latency_avg_ms\n   consider: [1\n")
    result = invoke(tmp_path, "--rules", str(path))
    assert result.returncode == 4
    assert f"{path}:4" in result.stderr and "not valid YAML" in result.stderr


@pytest.mark.parametrize(("args", "expected"), [
    (("--value", "dau"), "--value 'dau': expected NAME=NUMBER"),
    (("--value", "daily=3"), "command line:values.daily: 'daily' is not accepted; accepted: request_rate,"),
    (("--limit", "disk=3"), "command line:limits: unknown quantity disk"),
    (("--skip", "billing"), "--skip billing: accepted: service, postgres, redis, storage"),
    (("--plan", "supabase.fre"), "plan.entries: unknown catalog entry 'supabase.fre'; did you mean supabase.free"),
    (("--phase", "growth"), "plan.phase: names a phase of a plan file"),
    (("--sample-seconds", "soon"), "Invalid value for '--sample-seconds'"),
    (("--no-such-flag",), "No such option: --no-such-flag"),
    (("--rules", "missing.yaml"), "missing.yaml: no such rules file (write one with `hashigo check init`)"),
    (("--database", "mysql://db/app"), "sources.postgres.url: unknown scheme 'mysql'"),
])
def test_bad_flags_exit_4(tmp_path: Path, args: tuple[str, ...], expected: str) -> None:
    others = {"--skip": [], "--database": ["--skip", "service"]}.get(args[0], list(SKIP_AUTO))
    result = invoke(tmp_path, *args, *others)
    assert result.returncode == 4, result.stdout + result.stderr
    assert expected in " ".join(result.stderr.split()), result.stderr


def test_exit_code_2_only_ever_means_required(tmp_path: Path) -> None:
    """Usage errors are 4 here; 2 is the verdict 'required'."""
    result = invoke(tmp_path, *SKIP_AUTO, "--bill", "900", "--json")
    data = as_json(result)
    assert result.returncode == 2 and data["level"] == "required"
    assert rule(data, "bill")["status"] == "required" and data["verdict"]["triggered"] == ["bill"]


def test_metrics_lists_what_a_rule_can_name(tmp_path: Path) -> None:
    import json

    listed = json.loads(invoke(tmp_path, "metrics", "--json").stdout)
    assert [m["metric"] for m in listed] == list(METRICS)
    assert {m["metric"]: m["plan_quantity"] for m in listed}["db_size_gb"] == "database_gb"
    assert "latency_p95_ms" in invoke(tmp_path, "metrics").stdout
