"""The monthly bill (a number, a simple CSV, AWS CUR 1.0 and 2.0 exports), trends toward plan limits,
and a `hashigo plan --json` file naming the current phase, the next one and the commands to move."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from hashigo.ops.check.loading import CheckInputError
from hashigo.ops.check.sources.billing import read_bill
from hashigo.ops.check.trends import fit
from tests.ops.check.helpers import SKIP_AUTO, as_json, insert_history, invoke, rule

SIMPLE = 'Date,Amount\n2026-10-03,40.5\n2026-10-20,30\n2026-11-01,60\n2026-11-15,"$1,000.25"\n\n'
CUR1 = ("identity/LineItemId,lineItem/UsageStartDate,lineItem/UnblendedCost,lineItem/CurrencyCode\n"
        "a,2026-11-01T00:00:00Z,120.5,USD\nb,2026-11-02T00:00:00Z,80,USD\nc,2026-12-01T00:00:00Z,10,USD\n"
        "d,2026-12-10T00:00:00Z,20,USD\n")
CUR2 = ("line_item_usage_start_date,line_item_unblended_cost,line_item_currency_code,product_servicecode\n"
        "2026-11-03 00:00:00,310.25,USD,AmazonRDS\n2026-11-04 00:00:00,289.75,USD,AmazonECS\n")


def test_simple_csv_totals_the_latest_month(tmp_path: Path) -> None:
    path = tmp_path / "bill.csv"
    path.write_text(SIMPLE)
    bill = read_bill(path, date(2027, 1, 5))
    assert bill.month == "2026-11" and bill.usd == pytest.approx(1060.25) and not bill.projected
    assert bill.months == {"2026-10": 70.5, "2026-11": 1060.25}


def test_cur_exports_and_projection_of_the_running_month(tmp_path: Path) -> None:
    path = tmp_path / "cur.csv"
    path.write_text(CUR1)
    running = read_bill(path, date(2026, 12, 11))  # December is not over: 30 USD in 10 days → 93 USD
    assert running.month == "2026-12" and running.projected and running.days_seen == 10
    assert running.usd == pytest.approx(30 * 31 / 10)
    assert read_bill(path, date(2027, 2, 1)).usd == pytest.approx(30)  # a past month is what it was
    path.write_text(CUR2)
    assert read_bill(path, date(2027, 1, 1)).usd == pytest.approx(600)


@pytest.mark.parametrize(("content", "expected"), [
    ("when,amount\n2026-11-01,3\n", ":1: no date column"),
    ("date,amount\n2026-11-01,three\n", ":2: amount 'three' is not a number"),
    ("date,amount\n11/01/2026,3\n", ":2: date '11/01/2026' is not YYYY-MM-DD"),
    ("date,amount,currency\n2026-11-01,3,JPY\n", ":2: currency 'JPY'; accepted: USD"),
    ("date,amount\n", ": no charges after the header"),
    ("", ": empty"),
])
def test_malformed_billing_csv(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bill.csv"
    path.write_text(content)
    with pytest.raises(CheckInputError) as caught:
        read_bill(path, date(2026, 12, 1))
    assert f"{path}{expected}" in caught.value.problems[0]
    result = invoke(tmp_path, *SKIP_AUTO, "--bill-csv", str(path))
    assert result.returncode == 4 and expected in result.stderr


def test_bill_from_csv_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "cur.csv"
    path.write_text(CUR2)
    data = as_json(invoke(tmp_path, *SKIP_AUTO, "--bill-csv", str(path), "--json"))
    bill = rule(data, "bill")  # seed 004: > $500 a month → required
    assert bill["value"] == pytest.approx(600) and bill["status"] == "required" and data["exit_code"] == 2
    assert bill["source"] == "billing"


def test_fit_is_least_squares() -> None:
    slope, intercept = fit([(0, 1.0), (1, 3.0), (2, 5.0), (3, 7.0)])
    assert slope == pytest.approx(2.0) and intercept == pytest.approx(1.0)
    assert fit([(5, 2.0), (5, 4.0)]) == (0.0, 3.0)


def test_database_reaches_the_included_8_gb_in_about_20_days(tmp_path: Path) -> None:
    """seed 002: Supabase Pro includes 8 GB; growing 0.1 GB a day from 6 GB leaves ~20 days."""
    history = tmp_path / "h.sqlite3"
    insert_history(history, "db_size_gb", [(20 - day, 4.0 + 0.1 * day) for day in range(20)])
    data = as_json(invoke(tmp_path, *SKIP_AUTO, "--plan", "supabase.pro", "--value", "db_size_gb=6.0",
                          "--history", str(history), "--json"))
    size = rule(data, "db-size-of-plan")
    assert size["status"] == "ok" and size["compared"] == pytest.approx(75.0)
    trends = [t for t in data["trends"] if t["metric"] == "db_size_gb"]
    assert len(trends) == 1, data["trends"]
    assert trends[0]["days"] == pytest.approx(20, abs=0.5) and trends[0]["per_day"] == pytest.approx(0.1, rel=0.01)
    assert "reaches the 8 GB included allowance (Supabase Postgres Pro) in ~20 days" in trends[0]["sentence"]
    human = invoke(tmp_path, *SKIP_AUTO, "--plan", "supabase.pro", "--value", "db_size_gb=6.0",
                   "--history", str(history))
    assert "trend:" in human.stdout and "in ~20 days" in " ".join(human.stdout.split())


def test_no_trend_from_too_little_or_shrinking_history(tmp_path: Path) -> None:
    history = tmp_path / "h.sqlite3"
    insert_history(history, "db_size_gb", [(3, 7.0), (2, 6.5), (1, 6.2)])
    data = as_json(invoke(tmp_path, *SKIP_AUTO, "--plan", "supabase.pro", "--value", "db_size_gb=6.0",
                          "--history", str(history), "--json"))
    assert data["trends"] == []


def test_plan_file_names_the_next_phase_and_its_commands(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hashigo.cli import app

    plan_path = tmp_path / "plan.json"
    made = CliRunner().invoke(app, ["plan", "--json", "-o", str(plan_path)])
    assert made.exit_code == 0, made.output
    plan = json.loads(plan_path.read_text())
    first, second = plan["phases"][0], plan["phases"][1]
    data = as_json(invoke(tmp_path, *SKIP_AUTO, "--plan-file", str(plan_path), "--bill", "300",
                          "--json"))
    verdict = data["verdict"]
    assert data["plan"]["phase"] == first["name"] and verdict["next_phase"] == second["name"]
    assert verdict["summary"] == f"consider moving to {second['name']}: bill"
    moves = next(m for m in plan["migrations"] if m["from_phase"] == first["name"])
    expected = [c for s in moves["steps"] if s["action"] not in ("stays", "check") for c in s["commands"]]
    assert expected and all(any(v.startswith(c) for v in verdict["commands"]) for c in expected)
    deploy = [c for c in verdict["commands"] if c.startswith("hashigo deploy render")]
    assert deploy and all(c.endswith(f"--from-plan {plan_path} --phase {second['name']}") for c in deploy)
    assert verdict["commands"][-2:] == ["hashigo doctor", "hashigo check"]
    assert set(data["plan"]["entries"]) == {c["entry"] for c in first["components"]}
    # The last phase has nowhere to go; an unknown phase is bad input.
    last = as_json(invoke(tmp_path, *SKIP_AUTO, "--plan-file", str(plan_path), "--phase", plan["phases"][-1]["name"],
                          "--json"))
    assert last["verdict"]["next_phase"] is None
    wrong = invoke(tmp_path, *SKIP_AUTO, "--plan-file", str(plan_path), "--phase", "moon")
    assert wrong.returncode == 4 and "plan.phase: 'moon' is not a phase of" in wrong.stderr
