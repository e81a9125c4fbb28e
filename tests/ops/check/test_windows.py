"""Sustained windows over recorded history: one spike does not trigger a migration, three bad days of
seven do; history kept in the SQLite file survives between runs; thresholds follow the seed tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hashigo.ops.check.evaluate import level_of
from hashigo.ops.check.rulefile import Rule
from hashigo.ops.check.window import Sustained, evaluate_window, parse_sustained, split_periods
from tests.ops.check.helpers import DAY, SKIP_AUTO, as_json, insert_history, invoke, rule, write_rules


@pytest.mark.parametrize(("text", "expected"), [
    ("3 of 7 days", Sustained(3, 7, "days")), ("1 of 1 day", Sustained(1, 1, "days")),
    ("2 of the last 6 hours", Sustained(2, 6, "hours")), ("4 of 5 samples", Sustained(4, 5, "samples")),
    ("10 OF 30 Minutes", Sustained(10, 30, "minutes")),
])
def test_window_forms(text: str, expected: Sustained) -> None:
    assert parse_sustained(text) == expected


@pytest.mark.parametrize("text", ["3 in 7 days", "0 of 7 days", "3 of 7 weeks", "most days", "3 of 2 days"])
def test_bad_windows(text: str) -> None:
    with pytest.raises(ValueError, match=r"accepted|N must be"):
        parse_sustained(text)


def test_seed_table_boundaries() -> None:
    """seed 004: < 300 ms stay; 300–500 ms consider; > 500 ms required."""
    latency = Rule(metric="latency_avg_ms", consider=300, required=500)
    assert [level_of(latency, v) for v in (299.9, 300, 500, 500.1)] == ["ok", "consider", "consider", "required"]
    hit = Rule(metric="db_cache_hit_pct", direction="below", consider=95, required=80)
    assert [level_of(hit, v) for v in (99, 95, 80, 79.9)] == ["ok", "consider", "consider", "required"]


def test_periods_are_rolling_days_and_empty_ones_do_not_count() -> None:
    now = 1_000_000.0
    samples = [(now - 6.5 * DAY, 900.0), (now - 2.2 * DAY, 100.0), (now - 2.1 * DAY, 1000.0), (now - 0.1 * DAY, 700.0),
               (now - 9 * DAY, 5000.0)]  # outside the window
    window = parse_sustained("3 of 7 days")
    periods = split_periods(samples, window, now)
    assert periods == [[700.0], [100.0, 1000.0], [900.0]]
    rule = Rule(metric="latency_avg_ms", consider=300, required=500)
    outcome = evaluate_window(samples, window, now, lambda v: level_of(rule, v), "mean")
    assert outcome.level == "required" and outcome.counts["required"] == 3 and outcome.periods_with_data == 3
    # The same days by their median: day 2's (100, 1000) median is 550 → still 3 required days;
    # by their minimum it is 100 → only 2 required days → not sustained.
    assert evaluate_window(samples, window, now, lambda v: level_of(rule, v), "min").level == "ok"
    samples_only = evaluate_window(samples, parse_sustained("2 of 3 samples"), now, lambda v: level_of(rule, v), "mean")
    assert samples_only.level == "required"  # the last three samples are 100, 1000, 700 by time


def _dau(tmp_path: Path, today: float, history: Path) -> dict[str, Any]:
    result = invoke(tmp_path, *SKIP_AUTO, "--value", f"dau={today:g}", "--history", str(history), "--json")
    data = as_json(result)
    assert result.returncode == data["exit_code"], result.stderr
    return data


def test_one_spike_does_not_move_a_team_three_days_do(tmp_path: Path) -> None:
    """The built-in DAU rule (seed 004: > 10,000 required) holds only on 3 of the last 7 days."""
    history = tmp_path / "history.sqlite3"
    data = _dau(tmp_path, 12000, history)  # a viral day, nothing before it
    dau = rule(data, "dau")
    assert dau["now_level"] == "required" and dau["status"] == "ok" and data["exit_code"] == 0
    assert "required on 1" in dau["window"] and "needs 3" in dau["window"]

    insert_history(history, "dau", [(1.2, 15000), (3.5, 1500), (5.5, 1200), (8.0, 30000)])
    data = _dau(tmp_path, 12000, history)  # required on 2 days, consider on 4: consider is sustained
    assert rule(data, "dau")["status"] == "consider" and data["exit_code"] == 1
    assert data["verdict"]["summary"].startswith("consider moving to the next phase: dau")

    insert_history(history, "dau", [(2.5, 11000)])  # a third day above 10,000 within the last 7
    data = _dau(tmp_path, 12000, history)
    assert rule(data, "dau")["status"] == "required" and data["exit_code"] == 2
    assert data["verdict"]["summary"].startswith("move to the next phase now: dau")


def test_history_survives_between_runs(tmp_path: Path) -> None:
    rules = write_rules(tmp_path, {"bill": {"metric": "bill_usd", "consider": 100, "required": 500,
                                            "sustained": "2 of 3 samples"}})
    history = tmp_path / "h.sqlite3"
    levels = []
    for bill in (600, 50, 700, 650):
        data = as_json(invoke(tmp_path, *SKIP_AUTO, "--rules", str(rules), "--bill", str(bill), "--history",
                              str(history), "--json"))
        levels.append(rule(data, "bill")["status"])
    # 600 alone: 1 of 2 needed; 600,50: 1; 600,50,700: 2 of 3 → required; 50,700,650: required.
    assert levels == ["ok", "ok", "required", "required"]


def test_windows_compare_percent_of_the_current_limit(tmp_path: Path) -> None:
    rules = write_rules(tmp_path, {"size": {"metric": "db_size_gb", "limit": "plan", "consider": 80, "required": 95,
                                            "sustained": "2 of 3 days"}})
    history = tmp_path / "h.sqlite3"
    insert_history(history, "db_size_gb", [(1.5, 0.48), (2.5, 0.30)])
    data = as_json(invoke(tmp_path, *SKIP_AUTO, "--rules", str(rules), "--plan", "supabase.free",
                          "--value", "db_size_gb=0.49", "--history", str(history), "--json"))
    size = rule(data, "size")
    assert size["limit"]["value"] == 0.5 and "Supabase Postgres Free" in size["limit"]["text"]
    assert size["compared"] == pytest.approx(98.0) and size["status"] == "required"  # 98 % and 96 % of 0.5 GB
    assert data["plan"]["limits"]["database_gb"]["consequence"] == "the database turns read-only beyond it"


def test_history_older_than_keep_days_is_pruned(tmp_path: Path) -> None:
    from hashigo.ops.check.history import History

    history = tmp_path / "h.sqlite3"
    insert_history(history, "dau", [(120, 50.0), (30, 60.0)])
    invoke(tmp_path, *SKIP_AUTO, "--value", "dau=70", "--history", str(history))
    with History(history) as stored:
        assert [value for _, value in stored.series("dau", 0)] == [60.0, 70.0]  # keep_days: 90 by default
