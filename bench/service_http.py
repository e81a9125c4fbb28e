"""Requests per second of `hashigo serve` against a hand-written seed-002-style FastAPI app.

    .venv/bin/python -m bench.service_http [--seconds 10] [--runs 3] [--profiles embedded,servers]

Scenarios (issue 3): GET /api/v1/users/me with a valid token, reading a session's metadata
field, and uploading a 1 MiB file. Both apps run pinned to core 0 under uvicorn (one process);
wrk runs on core 1. Prints a table of medians and writes bench/results/service_http.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from bench._harness import (
    Server,
    free_port,
    hashigo_serve,
    login,
    median,
    running_server,
    write_results,
    wrk,
)

SCENARIOS = ("users_me", "session_meta", "upload_1mib")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def profile_env(profile: str, tmp: Path) -> dict[str, str]:
    env = {"HASHIGO_DATA_DIR": str(tmp / "data"), "SECRET_KEY": "bench-" + "s" * 48,
           "LOGIN_FAILURES_PER_ADDRESS": "100000", "MAX_UPLOAD_BYTES": str(8 * 1024 * 1024)}
    if profile == "embedded":
        return env
    from tests.harness.objectstores import start_rclone

    database = f"hashigo_bench_{os.getpid()}"
    subprocess.run(["psql", "-q", "-U", "postgres", "-h", "127.0.0.1", "-c", f"create database {database}"],
                   check=True, capture_output=True)
    s3 = start_rclone(tmp)
    env.update({
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "STORAGE_URL": f"s3://{s3.bucket}/bench", "STORAGE_ENDPOINT_URL": s3.endpoint, "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": s3.access_key, "AWS_SECRET_ACCESS_KEY": s3.secret_key,
    })
    return env


def prepare(server: Server, email: str) -> tuple[str, str, str]:
    """A user, a token, a session with one metadata field: (token, user id, session id)."""
    token = login(server.url, email)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        user_id = client.get("/api/v1/users/me").raise_for_status().json()["id"]
        session_id = client.post("/api/v1/sessions").raise_for_status().json()["id"]
        client.put(f"/api/v1/sessions/{session_id}/meta/user_profile",
                   json={"age": 30, "name": "ベンチ"}).raise_for_status()
    return token, user_id, session_id


def measure(server: Server, paths: dict[str, str], token: str, body: Path, seconds: int,
            runs: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    auth = {"Authorization": f"Bearer {token}"}
    for scenario in SCENARIOS:
        samples = []
        for _ in range(runs):
            cpu_before = server.cpu_seconds()
            if scenario == "upload_1mib":
                result = wrk(server.url + paths[scenario], seconds=seconds, connections=4, method="PUT",
                             headers={**auth, "Content-Type": "application/octet-stream"}, body_file=body)
            else:
                result = wrk(server.url + paths[scenario], seconds=seconds, connections=32, headers=auth)
            cpu = server.cpu_seconds() - cpu_before
            if result.non_2xx > result.requests // 100:
                raise SystemExit(f"{scenario}: {result.non_2xx} of {result.requests} answers were not 2xx "
                                 f"on {server.url}; the figures would measure errors, not the service")
            samples.append({**result.__dict__, "cpu_ms_per_request": 1000 * cpu / max(result.requests, 1)})
        results[scenario] = {
            "runs": samples,
            **{key: median([s[key] for s in samples]) for key in
               ("rps", "p50_ms", "p99_ms", "cpu_ms_per_request")},
            "non_2xx": sum(s["non_2xx"] for s in samples), "socket_errors": sum(s["errors"] for s in samples),
        }
    return results


def run_profile(profile: str, seconds: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"hashigo-bench-{profile}-") as folder:
        tmp = Path(folder)
        env = profile_env(profile, tmp)
        body = tmp / "body.bin"
        body.write_bytes(os.urandom(1024 * 1024))
        port = free_port()
        with running_server(hashigo_serve(port), env, port, tmp) as server:
            token, user_id, session_id = prepare(server, f"bench-{port}@example.com")
            hashigo = measure(server, {
                "users_me": "/api/v1/users/me",
                "session_meta": f"/api/v1/sessions/{session_id}/meta/user_profile",
                "upload_1mib": f"/api/v1/sessions/{session_id}/files/bench.bin",
            }, token, body, seconds, runs)
            idle_rss = server.rss_kib()
        from bench.anchor_app import token_for

        port = free_port()
        argv = [sys.executable, "-m", "uvicorn", "--factory", "bench.anchor_app:create_app", "--port", str(port),
                "--no-access-log", "--log-level", "warning"]
        with running_server(argv, {**env, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}, port,
                            tmp) as anchor:
            anchor_results = measure(anchor, {
                "users_me": "/users/me",
                "session_meta": f"/sessions/{session_id}/meta/user_profile",
                "upload_1mib": f"/sessions/{session_id}/files/bench.bin",
            }, token_for(user_id), body, seconds, runs)
        return {"hashigo": hashigo, "anchor": anchor_results, "hashigo_rss_kib_after": idle_rss}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profiles", default="embedded,servers")
    args = parser.parse_args()
    report: dict[str, Any] = {"seconds": args.seconds, "runs": args.runs, "cpu_count": os.cpu_count(),
                              "server_core": 0, "load_core": 1, "profiles": {}}
    for profile in args.profiles.split(","):
        report["profiles"][profile] = run_profile(profile, args.seconds, args.runs)
    print_table(report)
    print(f"wrote {write_results('service_http', report)}")


def print_table(report: dict[str, Any]) -> None:
    table = Table(title=f"hashigo serve vs hand-written FastAPI (medians of {report['runs']} × {report['seconds']} s,"
                        f" server on 1 core)")
    for column in ("profile", "scenario", "app", "req/s", "p50 ms", "p99 ms", "CPU ms/req", "non-2xx",
                   "hashigo/anchor req/s"):
        table.add_column(column, justify="right" if column not in {"profile", "scenario", "app"} else "left")
    for profile, data in report["profiles"].items():
        for scenario in SCENARIOS:
            ours, theirs = data["hashigo"][scenario], data["anchor"][scenario]
            ratio = ours["rps"] / theirs["rps"] if theirs["rps"] else float("nan")
            for name, row in (("hashigo", ours), ("anchor", theirs)):
                table.add_row(profile, scenario, name, f"{row['rps']:.0f}", f"{row['p50_ms']:.2f}",
                              f"{row['p99_ms']:.2f}", f"{row['cpu_ms_per_request']:.3f}", str(row["non_2xx"]),
                              f"{ratio:.2f}" if name == "hashigo" else "")
    Console().print(table)


if __name__ == "__main__":
    main()
