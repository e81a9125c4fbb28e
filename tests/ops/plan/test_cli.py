"""`hashigo plan` through the real command line: the Done-when, exit codes, JSON shape, formats."""

from __future__ import annotations

import json
from pathlib import Path

from hashigo.ops.plan.catalog import load_builtin
from hashigo.ops.plan.catalog_schema import JAPAN
from tests.ops.plan.helpers import invoke, plan_json, run_plan, write_yaml

REGIONAL = {"compute", "load_balancer", "database", "cache", "storage", "document_db"}


def test_done_when_init_then_plan_prints_a_three_phase_tokyo_plan(tmp_path: Path) -> None:
    init = run_plan(tmp_path, "init")
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "hashigo-plan.yaml").is_file()
    result = run_plan(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    text = result.stdout
    assert "region tokyo" in text and "requirements: " in text and "hashigo-plan.yaml" in text
    for phase in ("launch", "growth", "scale"):
        assert phase in text
    assert "Phases (USD per month)" in text and "total" in text
    assert "quantity × price = cost" in text          # every total is expanded into line items
    assert "hashigo check" in text                    # the migration path names the commands

    data = plan_json(tmp_path)
    assert [p["name"] for p in data["phases"]] == ["launch", "growth", "scale"]
    entries = load_builtin().entries
    for phase in data["phases"]:
        assert phase["chosen"] is not None
        assert abs(phase["monthly_usd"] - sum(x["cost"] for x in phase["lines"])) < 1e-6
        for line in phase["lines"]:                   # every number traced to an entry and its source
            entry = entries[line["entry"]]
            assert line["source"]["url"] and line["source"]["read"]
            assert line["formula"].endswith(f"${abs(line['cost']):,.2f}") or line["kind"] == "base" \
                or abs(line["cost"]) < 0.01
            if entry.component in REGIONAL:
                assert "global" in entry.regions or JAPAN & set(entry.regions), entry.id
    assert data["phases"][2]["usage"]["ha"] is True and data["phases"][0]["usage"]["ha"] is False


def test_without_a_requirements_file_the_defaults_are_used_and_said(tmp_path: Path) -> None:
    result = invoke(tmp_path, "--brief")
    assert result.returncode == 0, result.stderr
    assert "no hashigo-plan.yaml here" in result.stdout and "hashigo plan init" in result.stdout
    data = plan_json(tmp_path)
    assert data["requirements_source"] == "built-in defaults"
    assert data["notes"] and "hashigo plan init" in data["notes"][0]
    # The defaults are exactly what `plan init` writes.
    invoke(tmp_path, "init")
    from_file = plan_json(tmp_path)
    assert from_file["requirements"] == data["requirements"]
    assert [p["monthly_usd"] for p in from_file["phases"]] == [p["monthly_usd"] for p in data["phases"]]


def test_json_shape(tmp_path: Path) -> None:
    data = plan_json(tmp_path)
    assert set(data) >= {"version", "app", "region", "requirements_source", "requirements", "notes", "complete",
                         "phases", "migrations", "sweep", "reference", "overrides", "unconfirmed_entries", "stale"}
    assert data["version"] == 1 and data["complete"] is True and data["sweep"] is None
    phase = data["phases"][0]
    assert set(phase) >= {"name", "title", "from_mau", "to_mau", "dau", "budget_usd", "over_budget", "must_have",
                          "commercial", "chosen", "why", "monthly_usd", "components", "lines", "ranked", "refused",
                          "warnings", "usage"}
    assert phase["ranked"][0]["stack"] == phase["chosen"] or "kept from the previous phase" in phase["why"]
    assert all(r["monthly_usd"] is None and r["reasons"] for r in phase["refused"])
    line = phase["lines"][0]
    assert set(line) >= {"component", "entry", "kind", "item", "quantity", "unit", "free", "unit_price", "per",
                         "cost", "formula", "basis", "source", "unconfirmed", "override"}
    migration = data["migrations"][0]
    assert set(migration) == {"from_phase", "to_phase", "from_stack", "to_stack", "trigger", "steps"}
    commands = [c for m in data["migrations"] for s in m["steps"] for c in s["commands"]]
    assert any(c.startswith("hashigo migrate db run ") for c in commands), commands
    assert any(c.startswith("hashigo migrate storage ") for c in commands), commands
    assert any(c.startswith("hashigo deploy render --target ") for c in commands), commands
    assert "hashigo check" in commands


def test_sweep_compare_and_crossovers(tmp_path: Path) -> None:
    data = plan_json(tmp_path, "--users", "1000..1000000", "--compare", "fly-postgres,aws-fargate,cloud-run")
    sweep = data["sweep"]
    assert [s["stack"] for s in sweep["series"]] == ["fly-postgres", "aws-fargate", "cloud-run"]
    assert sweep["low_mau"] == 1000 and sweep["high_mau"] == 1_000_000
    points = sweep["series"][1]["points"]
    assert len(points) == 41 and points[0]["mau"] == 1000 and points[-1]["mau"] == 1_000_000
    assert sweep["crossovers"], "these three stacks cross in this range"
    for crossing in sweep["crossovers"]:
        mau = crossing["mau"]
        above, below = crossing["cheaper_above"], crossing["cheaper_below"]
        assert crossing["sentence"].startswith("above ~") and f"the {above} stack is cheaper" in crossing["sentence"]
        # Check the claim on the sampled curves: just after the crossover `above` is cheaper than `below`.
        series = {s["stack"]: s["points"] for s in sweep["series"]}
        after = next(i for i, p in enumerate(series[above]) if p["mau"] > mau * 1.01)
        a, b = series[above][after]["monthly_usd"], series[below][after]["monthly_usd"]
        if a is not None and b is not None:
            assert a <= b + 1e-6 or any(c["mau"] > mau and c["mau"] <= series[above][after]["mau"]
                                        for c in sweep["crossovers"]), crossing
    # Only the compared stacks are ranked in the phases.
    assert {r["stack"] for p in data["phases"] for r in p["ranked"] + p["refused"]} == \
        {"fly-postgres", "aws-fargate", "cloud-run"}


def test_single_user_count(tmp_path: Path) -> None:
    data = plan_json(tmp_path, "--users", "20k")
    assert [p["name"] for p in data["phases"]] == ["at-20000"]
    assert data["phases"][0]["to_mau"] == 20_000 and data["migrations"] == []


def test_markdown_document(tmp_path: Path) -> None:
    result = invoke(tmp_path, "--markdown", "-o", "PLAN.md")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "PLAN.md").read_text(encoding="utf-8")
    assert text.startswith("# Hosting plan: my-app")
    assert "| phase | users | stack |" in text and "## Migration path" in text
    assert 'hashigo migrate db run "$OLD_DATABASE_URL" "$NEW_DATABASE_URL"' in text
    assert "| component | service | item | quantity × price = cost | source |" in text


def test_exit_1_when_a_phase_has_no_stack(tmp_path: Path) -> None:
    write_yaml(tmp_path / "hashigo-plan.yaml", {"ai": {"mode": "realtime", "via": "gpu", "latency_budget_ms": 50}})
    result = invoke(tmp_path, "--json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["complete"] is False and data["phases"][0]["chosen"] is None
    assert any("typical response" in r for s in data["phases"][0]["refused"] for r in s["reasons"])


def test_init_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "hashigo-plan.yaml"
    target.write_text("app: mine\n", encoding="utf-8")
    result = invoke(tmp_path, "init")
    assert result.returncode == 1 and "already exists" in result.stderr
    assert target.read_text(encoding="utf-8") == "app: mine\n"
    assert invoke(tmp_path, "init", "--force", "--example", "seed002").returncode == 0
    assert "asotobase" in target.read_text(encoding="utf-8")


def test_flags_override_the_file(tmp_path: Path) -> None:
    write_yaml(tmp_path / "hashigo-plan.yaml", {"users": {"mau": 1000, "dau": 200}})
    data = plan_json(tmp_path, "--mau", "2000", "--region", "singapore", "--must-have", "cli",
                     "--must-have", "container", "--phases", "seed002")
    assert data["requirements"]["users"]["mau"] == 2000
    assert data["region"] == "singapore" and data["requirements"]["must_have"] == ["cli", "container"]
    assert [p["to_mau"] for p in data["phases"]] == [50, 500, 5000]


def test_override_file_in_the_folder_is_applied(tmp_path: Path) -> None:
    write_yaml(tmp_path / "hashigo-prices.yaml", {"entries": [{
        "id": "fly.machines", "sizes": [{"name": "shared-cpu-1x 1GB", "usd_per_month": 1.00}],
        "source": {"url": "contract:fly-startup-credit", "read": "2026-11-30"}}]})
    data = plan_json(tmp_path, "--users", "2000", "--compare", "fly-postgres")
    assert data["overrides"] == ["fly.machines"]
    lines = [x for x in data["phases"][0]["lines"] if x["entry"] == "fly.machines" and x["kind"] == "size"]
    assert lines and lines[0]["unit_price"] == 1.00 and lines[0]["override"] is True
    assert lines[0]["source"]["url"] == "contract:fly-startup-credit"


def test_catalog_lists_and_warns_about_stale_prices(tmp_path: Path) -> None:
    write_yaml(tmp_path / "hashigo-prices.yaml", {"entries": [{
        "id": "upstash.free", "source": {"url": "https://upstash.com/pricing", "read": "2020-01-01"}}]})
    result = invoke(tmp_path, "catalog", "--provider", "upstash", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {e["id"] for e in data["entries"]} == {"upstash.free", "upstash.pay-as-you-go", "upstash.fixed-250mb"}
    stale = [s for s in data["stale"] if s["entry"] == "upstash.free" and s["what"] == "entry"]
    assert stale and stale[0]["read"] == "2020-01-01" and stale[0]["age_days"] > 180
    assert "warning: upstash.free (entry): read 2020-01-01" in result.stderr
    strict = invoke(tmp_path, "catalog", "--provider", "upstash", "--stale", "--strict")
    assert strict.returncode == 1
    assert "upstash.free" in strict.stdout
    table = invoke(tmp_path, "catalog", "--component", "cache")
    assert table.returncode == 0 and "elasticache" in table.stdout and "Price catalog" in table.stdout
    stacks = invoke(tmp_path, "stacks", "--json")
    assert "aws-fargate" in {s["id"] for s in json.loads(stacks.stdout)}


def test_compare_puts_stacks_side_by_side(tmp_path: Path) -> None:
    result = invoke(tmp_path, "--compare", "aws-fargate,cloud-run", "--brief")
    assert result.returncode == 0, result.stderr
    assert "launch (≤ 5,000 MAU): stacks side by side" in result.stdout
    assert "aws.elasticache" in result.stdout and "gcp.memorystore-basic" in result.stdout
    markdown = invoke(tmp_path, "--compare", "aws-fargate,cloud-run", "--markdown").stdout
    assert "### scale (≤ 500,000 MAU), side by side" in markdown
    assert "| | `cloud-run` | `aws-fargate` |" in markdown or "| | `aws-fargate` | `cloud-run` |" in markdown
