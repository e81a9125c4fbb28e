"""What every service benchmark needs: a pinned server process, a user with a token, wrk, CPU time.

The machine has two cores: the server is pinned to core 0 and the load generator to core 1
(``taskset``), so the numbers are "per server core".
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
SERVER_CORE = "0"
LOAD_CORE = "1"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(core: str, argv: list[str]) -> list[str]:
    return ["taskset", "-c", core, *argv] if shutil.which("taskset") else argv


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")


@contextmanager
def running_server(argv: list[str], env: Mapping[str, str], port: int, cwd: Path,
                   ready_path: str = "/healthz") -> Iterator[Server]:
    log = cwd / f"server-{port}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(pinned(SERVER_CORE, argv), env={**os.environ, **env}, cwd=cwd,
                                stdout=out, stderr=subprocess.STDOUT)
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if httpx.get(server.url + ready_path, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def hashigo_serve(port: int) -> list[str]:
    return [sys.executable, "-m", "hashigo", "serve", "--migrate", "--port", str(port)]


def login(base: str, email: str, password: str = "correct horse battery staple 42") -> str:
    with httpx.Client(base_url=base, timeout=30) as client:
        client.post("/api/v1/auth/register", json={"email": email, "password": password, "display_name": "bench"})
        answer = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        answer.raise_for_status()
        return str(answer.json()["access_token"])


_LATENCY_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int


def wrk(url: str, *, seconds: int, connections: int, headers: Mapping[str, str],
        method: str = "GET", body_file: Path | None = None) -> WrkResult:
    """Run wrk on the load core with a Lua script for method, headers and body; parse its summary."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`")
    script = _wrk_script(method, headers, body_file)
    argv = pinned(LOAD_CORE, ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url])
    output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    script.unlink()
    return _parse_wrk(output)


def _wrk_script(method: str, headers: Mapping[str, str], body_file: Path | None) -> Path:
    lines = [f'wrk.method = "{method}"']
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()]
    if body_file is not None:
        lines.append(f'local f = io.open("{body_file}", "rb"); wrk.body = f:read("*all"); f:close()')
    lines.append("""done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"p50\\": %f, \\"p99\\": %f, \\"non2xx\\": %d}\\n",
    latency:percentile(50) / 1000.0, latency:percentile(99) / 1000.0, summary.errors.status))
end""")
    handle, name = tempfile.mkstemp(suffix=".lua")
    os.write(handle, "\n".join(lines).encode())
    os.close(handle)
    return Path(name)


def _parse_wrk(output: str) -> WrkResult:
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", output)
    if total is None:
        raise RuntimeError(f"cannot read wrk output:\n{output}")
    seconds = float(total.group(2)) * {"ms": 1e-3, "s": 1.0, "m": 60.0}[total.group(3)]
    extra = json.loads(output.split("JSON ", 1)[1].splitlines()[0])
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    socket_errors = sum(int(n) for n in errors.groups()) if errors else 0
    requests = int(total.group(1))
    return WrkResult(requests, seconds, requests / seconds, extra["p50"], extra["p99"], int(extra["non2xx"]),
                     socket_errors)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def write_results(name: str, payload: object) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2))
    return path


def run_async(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]
