"""`hashigo migrate db run` (verification included) against the tools a team would use instead.

    .venv/bin/python -m bench.migrate_db [--scale 100] [--runs 3] [--jobs 4] [--url postgresql://postgres@127.0.0.1:5432/postgres]

Source: `pgbench -i -s SCALE` plus a `docs` table (jsonb and bytea, SCALE × 5,000 rows), built
once and reused while its scale matches. Every timed run copies it into a fresh, empty database
on the same server: `pg_dump | psql` (seed 002 §5's procedure), `pg_dump -Fd -j N` + `pg_restore
-j N`, `pgcopydb clone` (when installed) and `hashigo migrate db run`, which also verifies every
row on both sides and the schema. The order of the tools rotates from run to run; a CHECKPOINT
precedes each one. Medians of the runs; ratio = hashigo's wall time / the tool's.

The machine is shared, so besides wall time each run reports the CPU seconds it cost: the
server's (every process of the postmaster, including exited backends, read from /proc) plus
the clients' (pg_dump, psql, pgcopydb, hashigo). That figure does not depend on what else runs.
Writes bench/results/migrate_db.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table

from bench._harness import REPO, median, write_results

DOCS_PER_SCALE = 5_000
console = Console()


def _db_url(admin: str, name: str) -> str:
    return f"{admin.rpartition('/')[0]}/{name}"


def _admin(admin: str, sql: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.encode())


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PG", "DATABASE_"))}


def build_source(admin: str, scale: int) -> str:
    name = f"hashigo_bench_src_s{scale}"
    url = _db_url(admin, name)
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM docs").fetchone()
            if row and row[0] == scale * DOCS_PER_SCALE:
                return url
    except psycopg.Error:
        pass
    console.print(f"building the source: pgbench -i -s {scale} + docs ({scale * DOCS_PER_SCALE:,} rows) …")
    _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(admin, f'CREATE DATABASE "{name}"')
    subprocess.run(["pgbench", "-i", "-s", str(scale), "-q", url], check=True, env=_env(),
                   capture_output=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("""
            CREATE TABLE docs (id bigint PRIMARY KEY, body jsonb NOT NULL, blob bytea, created timestamptz NOT NULL);
            CREATE INDEX docs_created_idx ON docs (created);
            CREATE INDEX docs_body_idx ON docs USING gin (body jsonb_path_ops)""")
        conn.execute(f"""
            INSERT INTO docs
            SELECT g, jsonb_build_object('id', g, 'title', 'document ' || g,
                                         'tags', jsonb_build_array('a', 'b', g % 97), 'text', repeat(md5(g::text), 12)),
                   decode(repeat(md5((g * 7)::text) || md5((g * 13)::text), 16), 'hex'),
                   timestamptz '2024-01-01' + g * interval '1 second'
            FROM generate_series(1, {scale * DOCS_PER_SCALE}) AS g""")
        conn.execute("VACUUM ANALYZE")
    return url


def _size(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) if row else 0


def _shell(command: str) -> None:
    subprocess.run(["bash", "-o", "pipefail", "-c", command], check=True, env=_env(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def tool_runners(jobs: int, work: Path, chunk_mb: int | None) -> dict[str, Callable[[str, str], dict[str, Any]]]:
    def dump_psql(src: str, dst: str) -> dict[str, Any]:
        _shell(f"pg_dump --dbname='{src}' | psql -q -v ON_ERROR_STOP=1 --dbname='{dst}' >/dev/null")
        return {}

    def dump_restore(src: str, dst: str) -> dict[str, Any]:
        folder = work / "dump"
        shutil.rmtree(folder, ignore_errors=True)
        _shell(f"pg_dump -Fd -j {jobs} -f '{folder}' --dbname='{src}' && "
               f"pg_restore -j {jobs} --exit-on-error --dbname='{dst}' '{folder}'")
        shutil.rmtree(folder, ignore_errors=True)
        return {}

    def pgcopydb(src: str, dst: str) -> dict[str, Any]:
        folder = work / "pgcopydb"
        shutil.rmtree(folder, ignore_errors=True)
        _shell(f"pgcopydb clone --source '{src}' --target '{dst}' --table-jobs {jobs} --index-jobs {jobs} "
               f"--dir '{folder}'")
        shutil.rmtree(folder, ignore_errors=True)
        return {}

    def hashigo(src: str, dst: str, *extra: str) -> dict[str, Any]:
        folder = work / "hashigo"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        proc = subprocess.run([sys.executable, "-m", "hashigo", "migrate", "db", "run", src, dst, "--jobs", str(jobs),
                               "--json", *extra], cwd=folder, env={**_env(), "PYTHONPATH": str(REPO / "src")},
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"hashigo migrate db run failed ({proc.returncode}): {proc.stderr[-2000:]}")
        report = json.loads(proc.stdout)
        steps = report["steps"]
        return {"verified": report["ok"], "rows": steps["copy"]["rows"],
                "copy_index_hash_s": steps["copy"]["seconds"], "slowest_tasks": steps["copy"].get("slowest_tasks")}

    runners: dict[str, Callable[[str, str], dict[str, Any]]] = {
        "pg_dump | psql": dump_psql, f"pg_dump -Fd -j{jobs} + pg_restore -j{jobs}": dump_restore}
    if shutil.which("pgcopydb"):
        runners["pgcopydb clone"] = pgcopydb
    runners["hashigo migrate db run (+verify)"] = hashigo
    if chunk_mb is not None:
        runners[f"hashigo … --chunk-mb {chunk_mb} (+verify)"] = lambda src, dst: hashigo(src, dst, "--chunk-mb",
                                                                                      str(chunk_mb))
    return runners


def _ticks(fields: list[str], *indexes: int) -> float:
    return sum(int(fields[i]) for i in indexes) / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def server_cpu(postmaster: int) -> float:
    """CPU seconds of the server so far: the postmaster, its exited children and its live ones."""
    total = _ticks(_stat(postmaster), 11, 12, 13, 14)  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = _stat(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == postmaster:
                total += _ticks(fields, 11, 12)
    return total


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def postmaster_pid(admin: str) -> int | None:
    with psycopg.connect(admin) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
    try:
        return int(_stat(int(row[0]))[1]) if row else None  # a backend's parent is the postmaster
    except OSError:
        return None  # the server runs elsewhere: no CPU figure


def timed(admin: str, src: str, name: str, runner: Callable[[str, str], dict[str, Any]]) -> dict[str, Any]:
    target = "hashigo_bench_dst"
    _admin(admin, f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
    _admin(admin, f'CREATE DATABASE "{target}"')
    _admin(admin, "CHECKPOINT")
    dst = _db_url(admin, target)
    postmaster = postmaster_pid(admin)
    cpu_before = (server_cpu(postmaster) if postmaster else 0.0) + client_cpu()
    started = time.monotonic()
    try:
        extra = runner(src, dst)
    except (subprocess.CalledProcessError, RuntimeError) as exc:
        detail = exc.stderr[-500:] if isinstance(exc, subprocess.CalledProcessError) else str(exc)
        console.print(f"[red]{name} failed:[/red] {detail}")
        return {"seconds": None, "error": str(detail)}
    seconds = time.monotonic() - started
    time.sleep(1)  # let the backends exit, so the postmaster has counted them
    cpu = (server_cpu(postmaster) if postmaster else 0.0) + client_cpu() - cpu_before
    return {"seconds": seconds, "cpu_seconds": cpu if postmaster else None, "target_bytes": _size(dst), **extra}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100, help="pgbench scale (100 ≈ 1.5 GB + 0.9 GB of docs)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--chunk-mb", type=int, default=None,
                        help="also time hashigo with this --chunk-mb (e.g. 256: big tables in key-range chunks)")
    parser.add_argument("--url", default=os.environ.get("HASHIGO_BENCH_POSTGRES_URL",
                                                        "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    src = build_source(args.url, args.scale)
    source_bytes = _size(src)
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="hashigo-bench-") as tmp:
        runners = tool_runners(args.jobs, Path(tmp), args.chunk_mb)
        names = list(runners)
        for run in range(args.runs):
            order = names[run % len(names):] + names[:run % len(names)]
            for name in order:
                outcome = timed(args.url, src, name, runners[name])
                results.setdefault(name, []).append(outcome)
                shown = f"{outcome['seconds']:.1f}s" if outcome["seconds"] is not None else "failed"
                console.print(f"run {run + 1}/{args.runs}: {name}: {shown}", highlight=False)
    _admin(args.url, 'DROP DATABASE IF EXISTS "hashigo_bench_dst" WITH (FORCE)')
    report(args, source_bytes, results)


def report(args: argparse.Namespace, source_bytes: int, results: dict[str, list[dict[str, Any]]]) -> None:
    medians = {name: median([r["seconds"] for r in runs if r["seconds"] is not None]) if
               any(r["seconds"] is not None for r in runs) else None for name, runs in results.items()}
    ours_name = "hashigo migrate db run (+verify)"
    ours = medians[ours_name]
    table = Table(title=f"Database move, {source_bytes / 1e9:.2f} GB (pgbench -s {args.scale} + docs), same server, "
                        f"--jobs {args.jobs}, medians of {args.runs} runs")
    cpu = {name: median([r["cpu_seconds"] for r in runs if r.get("cpu_seconds") is not None])
           if any(r.get("cpu_seconds") is not None for r in runs) else None for name, runs in results.items()}
    for column in ("tool", "wall time (median)", "runs", "hashigo / tool", "CPU s (median)", "hashigo / tool (CPU)"):
        table.add_column(column, justify="left" if column == "tool" else "right")
    for name, value in medians.items():
        runs = ", ".join(f"{r['seconds']:.1f}" if r["seconds"] is not None else "fail" for r in results[name])
        ratio = "—" if name.startswith("hashigo") or value is None or ours is None else f"{ours / value:.2f}×"
        ours_cpu, their_cpu = cpu[ours_name], cpu[name]
        cpu_ratio = ("—" if name.startswith("hashigo") or not ours_cpu or not their_cpu
                     else f"{ours_cpu / their_cpu:.2f}×")
        table.add_row(name, f"{value:.1f} s" if value is not None else "failed", runs, ratio,
                      f"{their_cpu:.0f}" if their_cpu else "—", cpu_ratio)
    console.print(table)
    verified = all(r.get("verified") for name, runs in results.items() if name.startswith("hashigo") for r in runs)
    console.print(f"hashigo: every run verified every row on both sides: {verified}")
    path = write_results("migrate_db", {
        "scale": args.scale, "runs": args.runs, "jobs": args.jobs, "source_bytes": source_bytes,
        "cpus": os.cpu_count(), "load_average_at_end": os.getloadavg(), "results": results, "medians_s": medians,
        "median_cpu_s": cpu,
        "ratios": {name: (ours / value if ours and value else None) for name, value in medians.items()},
    })
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
