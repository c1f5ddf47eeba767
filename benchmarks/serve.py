"""How does `digest serve` hold up? Latency under concurrent requests, and with idle connections open.

Starts `digest serve` as its own process on a free port of 127.0.0.1 over a small archive (one
issue's web copy of about 40 KB) and measures, from this process:

* a malformed request (``Content-Length: abc``): what the server answers;
* ``--requests`` GETs of the web copy from ``--concurrency`` client threads at once, each on a
  new connection: the median (p50) and 99th percentile (p99) of the time to the whole answer,
  and requests per second;
* with ``--idle`` connections open and silent (half of them stalled in the middle of a request
  line), 20 GETs one after the other: the median and slowest answer, and the server's threads.

``--source DIR`` serves the ``digest`` package of another checkout (its ``digest/`` folder put
first on the server's path), so the same figures can be taken of an earlier version::

    .venv/bin/python benchmarks/serve.py
    .venv/bin/python benchmarks/serve.py --source ../main     # another checkout, for comparison

Every loop is bounded and every socket has a timeout; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

#: Seconds any one request may take before it counts as unanswered.
GUARD = 10.0
PAGE = "/morning/2026-03-14/briefing.html"


def write_site(folder: Path) -> Path:
    config = folder / "feeds.yaml"
    config.write_text(
        "editions:\n  morning:\n    title: Morning Briefing\n"
        "    base_url: https://news.example.org/morning/\n    sources: [{url: feed.xml}]\n",
        encoding="utf-8",
    )
    issue = folder / "out" / "morning" / "2026-03-14"
    issue.mkdir(parents=True)
    paragraph = "<p>" + "The council approved the harbour budget after a long debate. " * 8 + "</p>\n"
    (issue / "briefing.html").write_text(paragraph * 80, encoding="utf-8")
    (folder / "out" / "morning" / "index.html").write_text("<p>all issues</p>", encoding="utf-8")
    return config


def start_server(config: Path, source: Path | None) -> tuple[subprocess.Popen[str], int]:
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source.resolve())
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "serve", "--config", str(config), "--port", "0"],
        cwd=config.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:  # ends when the process does, should it fail to start
        if "serving on http://127.0.0.1:" in line:
            port = int(line.split("127.0.0.1:")[1].split("/")[0])
            threading.Thread(target=process.stderr.read, daemon=True).start()  # keep the pipe drained
            return process, port
    raise SystemExit(f"digest serve did not start (exit {process.wait()})")


def get(port: int, path: str = PAGE) -> float:
    """Seconds to the whole answer of one GET on a new connection; raises if it is not 200."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=GUARD)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status}")
    finally:
        connection.close()
    return time.perf_counter() - started


def malformed(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /morning/unsubscribe HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n")
        try:
            answer = sock.recv(200)
        except TimeoutError:
            return "no answer in 5 s"
        except ConnectionResetError:
            return "connection reset, no answer"
    return answer.split(b"\r\n", 1)[0].decode("latin-1") if answer else "connection closed, no answer"


def concurrent(port: int, requests: int, concurrency: int) -> tuple[list[float], int, float]:
    """Latencies of the answered requests, the count of failed ones, and the wall time."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    each = requests // concurrency

    def client() -> None:
        for _ in range(each):
            try:
                seconds = get(port)
            except (OSError, RuntimeError, http.client.HTTPException):
                with lock:
                    failures[0] += 1
                continue
            with lock:
                latencies.append(seconds)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GUARD * each + 5)
    return latencies, failures[0], time.perf_counter() - started


def server_threads(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return -1  # not Linux
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))


def with_idle(port: int, pid: int, idle: int) -> tuple[list[float], int, int]:
    """Answer times of 20 GETs while ``idle`` connections are open, failures, and the server's threads."""
    times: list[float] = []
    failures = 0
    with ExitStack() as stack:
        for number in range(idle):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=GUARD))
            if number % 2:
                sock.sendall(b"GET /morning/ HTTP/1.1\r\nHost: a\r\n")
        time.sleep(0.5)  # let the server accept them all before measuring
        for _ in range(20):
            try:
                times.append(get(port))
            except (OSError, RuntimeError, http.client.HTTPException):
                failures += 1
        threads = server_threads(pid)
    return times, failures, threads


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None, help="a checkout whose digest/ to serve")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--idle", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="digest-serve-bench-") as folder:
        config = write_site(Path(folder))
        process, port = start_server(config, args.source)
        try:
            get(port)  # warm up: the first request loads what the server loads lazily
            answer = malformed(port)
            latencies, failed, wall = concurrent(port, args.requests, args.concurrency)
            idle_times, idle_failed, threads = with_idle(port, process.pid, args.idle)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=GUARD)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    where = args.source or Path(__file__).resolve().parents[1]
    print(f"digest serve from {where}")
    print(f"Content-Length: abc -> {answer}")
    print(
        f"{len(latencies)} GETs from {args.concurrency} threads ({failed} failed): "
        f"p50 {percentile(latencies, 0.5) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms, "
        f"{len(latencies) / wall:.0f} requests/s"
    )
    if idle_times:
        print(
            f"with {args.idle} idle connections open ({idle_failed} of 20 GETs failed): "
            f"median {statistics.median(idle_times) * 1000:.1f} ms, slowest {max(idle_times) * 1000:.1f} ms; "
            f"server threads {threads}"
        )
    else:
        print(f"with {args.idle} idle connections open: no GET answered; server threads {threads}")


if __name__ == "__main__":
    main()
