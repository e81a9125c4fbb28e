"""`hashigo migrate storage` against rclone and s5cmd: the same objects, the same servers, one run.

    .venv/bin/python -m bench.migrate_storage [--scale 1.0] [--runs 3] [--concurrency 16]

Data (issue 6): 10,000 small files (1-64 KiB, unicode names) and 20 large files (64-256 MiB);
``--scale`` multiplies both counts (at least one large file). Scenarios: a local folder to an S3
server, and S3 to another S3 server (two `rclone serve s3` processes over folders, so every byte
goes through the client; s5cmd takes one endpoint per run and copies S3 to S3 server-side, so it
has no S3 → S3 row). Servers run on core 0, clients on core 1. Every client copies with 16
objects in flight and 16 MiB parts (4 per object in flight). hashigo runs with its SHA-256 of
every byte and its default verification (the destination's MD5 ETag, else read-back); a second
row reads every object back. Prints medians and ratios; writes bench/results/migrate_storage.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench._harness import LOAD_CORE, median, write_results
from bench._transfer import (
    ACCESS_KEY,
    MIB,
    RCLONE,
    S5CMD,
    SECRET_KEY,
    DataSet,
    Measured,
    S3Server,
    folder_totals,
    make_dataset,
    measure,
    rclone_s3_server,
    remove,
)

Command = tuple[list[str], dict[str, str]]
PARTS = 4


def s3_url(server: S3Server, bucket_path: str) -> str:
    return f"s3://{bucket_path}?endpoint={server.endpoint}&path_style=true&region=us-east-1"


def hashigo(source: str, destination: str, journal: Path, concurrency: int, verify: str) -> Command:
    keys = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    env = {f"{side}_{k}": v for side in ("SRC", "DST") for k, v in keys.items()}
    return ([sys.executable, "-m", "hashigo", "migrate", "storage", source, destination, "--journal", str(journal),
             "--json", "--concurrency", str(concurrency), "--part-size", "16MiB", "--multipart-threshold", "16MiB",
             "--part-concurrency", str(PARTS), "--verify", verify], env)


def rclone_remote(name: str, server: S3Server) -> dict[str, str]:
    prefix = f"RCLONE_CONFIG_{name.upper()}_"
    return {prefix + "TYPE": "s3", prefix + "PROVIDER": "Other", prefix + "ENDPOINT": server.endpoint,
            prefix + "ACCESS_KEY_ID": ACCESS_KEY, prefix + "SECRET_ACCESS_KEY": SECRET_KEY,
            prefix + "FORCE_PATH_STYLE": "true", prefix + "REGION": "us-east-1"}


def rclone(source: str, destination: str, concurrency: int, env: dict[str, str]) -> Command:
    return ([RCLONE, "copy", source, destination, "--config", "/dev/null", "--transfers", str(concurrency),
             "--checkers", str(concurrency), "--s3-chunk-size", "16M", "--s3-upload-cutoff", "16M",
             "--s3-upload-concurrency", str(PARTS), "--s3-no-check-bucket", "--stats", "0"], env)


def s5cmd(folder: Path, server: S3Server, destination: str, concurrency: int) -> Command:
    env = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_REGION": "us-east-1"}
    return ([S5CMD, "--endpoint-url", server.endpoint, "--numworkers", str(concurrency), "cp", "--concurrency",
             str(PARTS), "--part-size", "16", f"{folder}/*", destination], env)


def tools_for(scenario: str, data: DataSet, src: S3Server, dst: S3Server, run: str, tmp: Path,
              concurrency: int) -> dict[str, Command]:
    target = f"dest/{run}"
    if scenario == "local→s3":
        source_url, rclone_source, env = f"file://{data.root}", str(data.root), rclone_remote("dst", dst)
    else:
        source_url = s3_url(src, data.root.name)
        rclone_source = f"src:{data.root.name}"
        env = {**rclone_remote("src", src), **rclone_remote("dst", dst)}
    commands = {
        "hashigo": hashigo(source_url, s3_url(dst, target), tmp / f"{run}-a.sqlite", concurrency, "auto"),
        "hashigo read-back": hashigo(source_url, s3_url(dst, target + "-rb"), tmp / f"{run}-b.sqlite",
                                     concurrency, "read-back"),
        "rclone": rclone(rclone_source, f"dst:{target}-rc", concurrency, env),
    }
    if scenario == "local→s3":
        commands["s5cmd"] = s5cmd(data.root, dst, f"s3://{target}-s5/", concurrency)
    return commands


def check_copy(name: str, result: Measured, data: DataSet, folder: Path) -> None:
    objects, size = folder_totals(folder)
    if result.returncode != 0 or (objects, size) != (data.objects, data.size):
        raise SystemExit(f"{name} failed (exit {result.returncode}, {objects}/{data.objects} objects, "
                         f"{size}/{data.size} bytes):\n{result.output}")


def run_round(scenario: str, data: DataSet, src: S3Server, dst: S3Server, round_no: int, tmp: Path,
              concurrency: int, results: dict[str, dict[str, list[Measured]]], console: Console,
              tools: list[str]) -> None:
    run = f"{scenario.replace('→', '-to-')}-{round_no}"
    commands = {name: command for name, command in tools_for(scenario, data, src, dst, run, tmp, concurrency).items()
                if name in tools}
    suffix = {"hashigo": "", "hashigo read-back": "-rb", "rclone": "-rc", "s5cmd": "-s5"}
    for name, (argv, env) in commands.items():
        result = measure(argv, env, LOAD_CORE, tmp / f"{run}-{name.replace(' ', '-')}.log")
        folder = dst.root / "dest" / (run + suffix[name])
        check_copy(name, result, data, folder)
        if name.startswith("hashigo"):
            report = json.loads(result.output[result.output.index("{"):])
            assert report["ok"] and report["copied"] == data.objects, report
        remove(folder)
        results[scenario].setdefault(name, []).append(result)
        console.print(f"  {scenario} {name}: {result.wall_seconds:.1f}s wall, {result.cpu_seconds:.1f}s CPU, "
                      f"{result.peak_rss_bytes / MIB:.0f} MiB peak")


def summarise(results: dict[str, dict[str, list[Measured]]], data: DataSet) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for scenario, tools in results.items():
        def med(tool: str, field: str, tools: dict[str, list[Measured]] = tools) -> float:
            return median([getattr(m, field) for m in tools[tool]])

        competitors = [t for t in ("rclone", "s5cmd") if t in tools]
        if not competitors or "rclone" not in tools:
            continue
        fastest = min(competitors, key=lambda t: med(t, "wall_seconds"))
        for tool in tools:
            wall, cpu, rss = med(tool, "wall_seconds"), med(tool, "cpu_seconds"), med(tool, "peak_rss_bytes")
            rows.append({"scenario": scenario, "tool": tool, "runs": len(tools[tool]), "wall_seconds": wall,
                         "cpu_seconds": cpu, "cpu_ms_per_object": cpu * 1000 / data.objects,
                         "peak_rss_mib": rss / MIB, "mib_per_second": data.size / MIB / wall,
                         "wall_vs_fastest": wall / med(fastest, "wall_seconds"), "fastest_other": fastest,
                         "cpu_vs_rclone": cpu / med("rclone", "cpu_seconds"),
                         "rss_vs_rclone": rss / med("rclone", "peak_rss_bytes")})
    return rows


def print_table(console: Console, rows: list[dict[str, Any]], data: DataSet) -> None:
    table = Table(title=f"migrate storage: {data.objects:,} objects, {data.size / MIB:,.0f} MiB (medians)")
    for column in ("scenario", "tool", "wall s", "MiB/s", "CPU s", "CPU ms/obj", "peak RSS MiB",
                   "wall ÷ fastest other", "CPU ÷ rclone", "RSS ÷ rclone"):
        table.add_column(column, justify="left" if column in {"scenario", "tool"} else "right")
    for r in rows:
        table.add_row(r["scenario"], r["tool"], f"{r['wall_seconds']:.1f}", f"{r['mib_per_second']:.0f}",
                      f"{r['cpu_seconds']:.1f}", f"{r['cpu_ms_per_object']:.2f}", f"{r['peak_rss_mib']:.0f}",
                      f"{r['wall_vs_fastest']:.2f}× ({r['fastest_other']})", f"{r['cpu_vs_rclone']:.2f}×",
                      f"{r['rss_vs_rclone']:.2f}×")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the number of small and large files")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--scenarios", default="local→s3,s3→s3")
    parser.add_argument("--small", type=int, help="number of small files (overrides --scale for them)")
    parser.add_argument("--large", type=int, help="number of large files (overrides --scale for them)")
    parser.add_argument("--tools", default="hashigo,hashigo read-back,rclone,s5cmd")
    args = parser.parse_args()
    console = Console(width=200)
    small = args.small if args.small is not None else max(1, round(10_000 * args.scale))
    large = args.large if args.large is not None else max(1, round(20 * args.scale))
    with tempfile.TemporaryDirectory(prefix="bench-migrate-") as name:
        tmp = Path(name)
        console.print(f"generating {small:,} small and {large} large files …")
        data = make_dataset(tmp / "source" / "data", small, large, 64 * MIB, 256 * MIB)
        (tmp / "dest-root" / "dest").mkdir(parents=True)
        scenarios = args.scenarios.split(",")
        results: dict[str, dict[str, list[Measured]]] = {s: {} for s in scenarios}
        with rclone_s3_server(tmp / "source", tmp / "src-server.log") as src, \
                rclone_s3_server(tmp / "dest-root", tmp / "dst-server.log") as dst:
            for round_no in range(args.runs):
                console.print(f"round {round_no + 1}/{args.runs}")
                for scenario in scenarios:
                    run_round(scenario, data, src, dst, round_no, tmp, args.concurrency, results, console,
                              args.tools.split(","))
        rows = summarise(results, data)
    print_table(console, rows, data)
    path = write_results("migrate_storage", {
        "scale": args.scale, "runs": args.runs, "concurrency": args.concurrency, "objects": data.objects,
        "bytes": data.size, "rows": rows,
        "raw": {s: {t: [asdict(m) | {"output": ""} for m in ms] for t, ms in tools.items()}
                for s, tools in results.items()}})
    console.print(f"results: {path}")


if __name__ == "__main__":
    main()
