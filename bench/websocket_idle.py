"""Memory per idle authenticated WebSocket connection, at 10,000 connections.

    .venv/bin/python -m bench.websocket_idle [--connections 10000] [--runs 3]

The server (`hashigo serve`, embedded defaults) runs pinned to core 0; a client process on
core 1 opens the connections in batches and holds them idle. The server's RSS growth divided
by the number of connections is the figure; the anchor is a bare FastAPI WebSocket endpoint
(accept, then wait) under the same uvicorn. Writes bench/results/websocket_idle.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench._harness import Server, free_port, hashigo_serve, login, median, running_server, write_results

ANCHOR_SOURCE = '''
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

app = FastAPI()


@app.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@app.websocket("/ws")
async def ws(socket: WebSocket) -> None:
    await socket.accept()
    try:
        while True:
            await socket.receive_text()
    except WebSocketDisconnect:
        pass
'''


async def hold(url: str, count: int, headers: dict[str, str], ready: asyncio.Event,
               release: asyncio.Event) -> int:
    import websockets

    sockets: list[Any] = []
    failures = 0

    async def one() -> None:
        nonlocal failures
        try:
            sockets.append(await websockets.connect(url, additional_headers=headers, open_timeout=60,
                                                    ping_interval=None, max_queue=4))
        except Exception:
            failures += 1

    for start in range(0, count, 250):
        await asyncio.gather(*(one() for _ in range(min(250, count - start))))
    ready.set()
    await release.wait()
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
    return failures


async def measure(server: Server, url: str, headers: dict[str, str], count: int) -> dict[str, Any]:
    ready, release = asyncio.Event(), asyncio.Event()
    warm = asyncio.create_task(hold(url, 50, headers, ready, release))
    await ready.wait()
    await asyncio.sleep(1)
    base = server.rss_kib()
    release.set()
    await warm
    ready, release = asyncio.Event(), asyncio.Event()
    started = time.monotonic()
    task = asyncio.create_task(hold(url, count, headers, ready, release))
    await ready.wait()
    connect_seconds = time.monotonic() - started
    await asyncio.sleep(3)
    loaded = server.rss_kib()
    release.set()
    failures = await task
    opened = count - failures
    return {"connections": opened, "failed": failures, "rss_base_kib": base, "rss_loaded_kib": loaded,
            "kib_per_connection": (loaded - base) / max(opened, 1), "connect_seconds": connect_seconds}


def run(count: int, runs: int) -> dict[str, Any]:
    results: dict[str, Any] = {"hashigo": [], "anchor": []}
    with tempfile.TemporaryDirectory(prefix="hashigo-bench-ws-") as folder:
        tmp = Path(folder)
        env = {"HASHIGO_DATA_DIR": str(tmp / "data"), "SECRET_KEY": "bench-" + "s" * 48, "LOG_LEVEL": "WARNING",
               "ACCESS_TOKEN_TTL": "3600"}
        (tmp / "anchor_ws.py").write_text(ANCHOR_SOURCE)
        for _ in range(runs):
            port = free_port()
            with running_server(hashigo_serve(port), env, port, tmp) as server:
                token = login(server.url, f"ws-{port}@example.com")
                url = f"ws://127.0.0.1:{port}/api/v1/ws?access_token={token}"
                results["hashigo"].append(asyncio.run(measure(server, url, {}, count)))
            port = free_port()
            argv = [sys.executable, "-m", "uvicorn", "anchor_ws:app", "--port", str(port), "--no-access-log",
                    "--log-level", "warning", "--ws-ping-interval", "20"]
            with running_server(argv, {"PYTHONPATH": str(tmp)}, port, tmp) as anchor:
                results["anchor"].append(asyncio.run(measure(anchor, f"ws://127.0.0.1:{port}/ws", {}, count)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = run(args.connections, args.runs)
    summary = {name: median([r["kib_per_connection"] for r in rows]) for name, rows in results.items()}
    table = Table(title=f"Idle WebSocket memory, {args.connections} connections (median of {args.runs})")
    for column in ("server", "KiB / connection", "opened", "connect s"):
        table.add_column(column)
    for name, rows in results.items():
        table.add_row(name, f"{summary[name]:.1f}", str(min(r["connections"] for r in rows)),
                      f"{median([r['connect_seconds'] for r in rows]):.1f}")
    Console().print(table)
    print(f"hashigo/anchor memory ratio: {summary['hashigo'] / summary['anchor']:.2f}")
    payload = {"connections": args.connections, "runs": results, "median_kib_per_connection": summary,
               "cpu_count": os.cpu_count()}
    print(f"wrote {write_results('websocket_idle', payload)}")


if __name__ == "__main__":
    main()
