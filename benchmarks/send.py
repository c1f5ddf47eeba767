"""How fast does `digest send` deliver? Messages per second next to plain smtplib.

Builds one invented issue (about 55-60 KB per message, near the size the issue's
measurements used), writes a subscribers file of N addresses (default 2,000)
and starts a loopback aiosmtpd server that accepts and discards everything.
Then it times, each from a fresh ledger:

* ``digest send`` (``pipeline.send_issue``: per-subscriber messages from the
  bytes prepared once, one SMTP transaction each, a ledger commit after each
  250), with 1 and with 2 connections;
* plain smtplib: one connection, ``sendmail`` of the very same bytes (taken
  from a dry run's outbox), no ledger: the ceiling for one connection;
* greylisting: ``digest send`` to 500 subscribers (``--greylist-subscribers``)
  of whom 15 (``--greylisted``, spread through the list) get ``451`` to their
  first RCPT, as a greylisting server answers, one connection, the default
  retry policy;
* shared: the state store on PostgreSQL (a temporary cluster, as the tests
  start one: tests/pgcluster.py), a server that waits 5 ms before it answers
  each message's data (``--latency-ms``), and 2,000 subscribers
  (``--shared-subscribers``): one ``digest send`` process, then four sharing
  the issue (``--senders``), each from a fresh database, one connection each.
  The server counts the copies each recipient got: exactly one each, or the
  row fails.

Usage::

    .venv/bin/pip install -e '.[test,postgres]'
    .venv/bin/python benchmarks/send.py [--subscribers 2000] [--only greylisting|shared]

``--only greylisting`` runs that row alone; with ``PYTHONPATH`` set to another
checkout it measures that checkout's code (the row uses only ``pipeline.send_issue``).
``--only shared`` runs the shared row alone (it needs Debian's PostgreSQL 15 server).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from digest import pipeline
from digest.config import Config, load_config
from digest.deliver.files import OutboxDeliverer
from digest.output import write_issue
from digest.state import State, state_url
from digest.types import Briefing, Dateline, Issue, Section, SourceRef
from digest.workers import PdfRenderer

WORDS = [
    "council",
    "harbour",
    "budget",
    "ferry",
    "survey",
    "report",
    "residents",
    "committee",
    "project",
    "plan",
    "season",
    "bridge",
    "repairs",
    "glacier",
    "northern",
    "slopes",
    "water",
    "authority",
    "engineer",
    "capacity",
    "records",
    "winter",
]


class Sink:
    """Accepts every message and only counts it."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.count += 1
        return "250 OK"


class Greylisting(Sink):
    """A Sink that answers 451 to the first RCPT of each greylisted address."""

    def __init__(self, greylisted: set[str]) -> None:
        super().__init__()
        self.waiting = set(greylisted)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self.lock:
            if address in self.waiting:
                self.waiting.discard(address)
                return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def sentence(seed: int, words: int = 24) -> str:
    picked = [WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(words)]
    return " ".join(picked).capitalize() + f", officials said on day {seed % 28 + 1}."


def invented_issue() -> Issue:
    """Five briefings of invented words: about 55-60 KB per message once rendered."""
    stories = []
    for n in range(5):
        stories.append(
            Briefing(
                headline=f"Invented story number {n + 1} about the {WORDS[n]}",
                dateline=Dateline(date(2026, 3, 14), "OSLO"),
                lede=tuple(" ".join(sentence(n * 10 + p + s) for s in range(2)) for p in range(3)),
                sections=tuple(
                    Section(
                        question=f"What happens next with the {WORDS[(n + q) % len(WORDS)]}?",
                        answer=tuple(
                            " ".join(sentence(n * 100 + q * 10 + p + s) for s in range(2)) for p in range(2)
                        ),
                    )
                    for q in range(3)
                ),
                sources=(
                    SourceRef(
                        title="Invented",
                        url=f"https://news.example.org/{n}",
                        feed="Example Wire",
                        published=datetime(2026, 3, 14, 6, tzinfo=UTC),
                    ),
                ),
            )
        )
    return Issue(
        edition="bench",
        issue_id="2026-03-14",
        title="Benchmark Briefing",
        date=date(2026, 3, 14),
        built_at=datetime(2026, 3, 14, 7, tzinfo=UTC),
        stories=tuple(stories),
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def configure(folder: Path, port: int, connections: int, run: str) -> None:
    """feeds.yaml of one edition mailing subscribers.csv through the loopback server, its own state."""
    (folder / "feeds.yaml").write_text(
        f"state_dir: state-{run}\n"
        "editions:\n  bench:\n    title: Benchmark Briefing\n    sources: [{url: feed.xml}]\n"
        "    delivery:\n      from: Benchmark <bench@example.org>\n"
        "      subscribers: subscribers.csv\n"
        f"      smtp: {{host: 127.0.0.1, port: {port}, security: none, connections: {connections}}}\n"
    )


def write_invented_issue(folder: Path, config: Config) -> Path:
    """The issue folder as ``digest build`` writes it for an edition with delivery (its bodies
    carry the unsubscribe endpoint, so ``digest send`` need not render them again)."""
    issue = invented_issue()
    with PdfRenderer() as renderer:
        rendered = pipeline.render(config, config.editions["bench"], issue, renderer)
    return write_issue(folder / "out" / "bench", issue.issue_id, rendered)


def greylisting_row(subscribers: int, greylisted: int) -> tuple[str, int, float]:
    """``digest send`` to ``subscribers`` addresses, ``greylisted`` of them answered 451 once."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        port = free_port()
        addresses = [f"reader{i}@example.org" for i in range(subscribers)]
        (folder / "subscribers.csv").write_text("email,name\n" + "".join(f"{a},Reader\n" for a in addresses))
        configure(folder, port, 1, "greylisting")
        config = load_config(folder / "feeds.yaml")
        edition = config.editions["bench"]
        issue_dir = write_invented_issue(folder, config)
        step = subscribers // greylisted if greylisted else 1
        sink = Greylisting({addresses[i * step + step // 2] for i in range(greylisted)})
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            started = time.perf_counter()
            with State(state_url(config)) as state:
                report = pipeline.send_issue(config, edition, state, issue_dir)
            elapsed = time.perf_counter() - started
        finally:
            controller.stop()
        assert report.sent == subscribers == sink.count, report.summary()
        return f"digest send, {greylisted} greylisted (451 once)", report.sent, elapsed


class SlowSink:
    """Counts each recipient's copies, answering each message's data after ``latency`` seconds."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.copies: Counter[str] = Counter()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.latency)
        self.copies.update(envelope.rcpt_tos)
        return "250 OK"


def shared_row(subscribers: int, senders: int, latency: float) -> list[tuple[str, int, float]]:
    """One ``digest send`` process, then ``senders`` sharing the issue, on a temporary PostgreSQL."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from pgcluster import PostgresCluster

    cluster = PostgresCluster().start()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            addresses = [f"reader{i}@example.org" for i in range(subscribers)]
            (folder / "subscribers.csv").write_text(
                "email,name\n" + "".join(f"{a},Reader\n" for a in addresses)
            )
            port = free_port()
            configure(folder, port, 1, "shared")
            issue_dir = write_invented_issue(folder, load_config(folder / "feeds.yaml"))
            rows = []
            for count in (1, senders):
                sink = SlowSink(latency)
                controller = Controller(sink, hostname="127.0.0.1", port=port)
                controller.start()
                url = cluster.database()
                State(url).close()  # the schema made before the clock starts
                text = (folder / "feeds.yaml").read_text()
                (folder / "feeds.yaml").write_text(f"database_url: {url}\n" + text.split("\n", 1)[1])
                command = [sys.executable, "-m", "digest", "send", "--config", str(folder / "feeds.yaml")]
                command += ["--issue", str(issue_dir)]
                try:
                    started = time.perf_counter()
                    running = [
                        subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(count)
                    ]
                    outputs = [process.communicate()[0] for process in running]
                    elapsed = time.perf_counter() - started
                finally:
                    controller.stop()
                    cluster.drop(url)
                codes = [process.returncode for process in running]
                assert codes == [0] * count, (codes, outputs)
                # Exactly once, counted at the server.
                assert sink.copies == Counter(addresses), sorted(
                    set(sink.copies.items()) - {(a, 1) for a in addresses}
                )
                plural = "s" if count > 1 else ""
                name = f"digest send on PostgreSQL, {count} sender{plural}, {latency * 1000:.0f} ms/msg"
                rows.append((name, sum(sink.copies.values()), elapsed))
            return rows
    finally:
        cluster.stop()


def print_shared(rows: list[tuple[str, int, float]]) -> None:
    for name, count, seconds in rows:
        print(f"{name:<52} {count:>8} {seconds:>8.2f} {count / seconds:>8.0f}")
    (_, _, one), (name, _, many) = rows
    senders = name.split(", ")[1]
    print(
        f"{senders} took {many / one:.0%} of one sender's time ({one / many:.2f}x as fast), each mailed once"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--greylist-subscribers", type=int, default=500)
    parser.add_argument("--greylisted", type=int, default=15)
    parser.add_argument("--shared-subscribers", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=5.0)
    parser.add_argument("--only", choices=["greylisting", "shared"], default=None)
    args = parser.parse_args()
    os.environ.setdefault("DIGEST_SECRET", "benchmark-secret")
    if args.only == "shared":
        print_shared(shared_row(args.shared_subscribers, args.senders, args.latency_ms / 1000))
        return
    if args.only == "greylisting":
        name, count, seconds = greylisting_row(args.greylist_subscribers, args.greylisted)
        print(f"{name}: {count} messages in {seconds:.2f} s")
        return

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        port = free_port()
        (folder / "subscribers.csv").write_text(
            "email,name\n" + "".join(f"reader{i}@example.org,Reader {i}\n" for i in range(args.subscribers))
        )

        configure(folder, port, 1, "dry")
        config = load_config(folder / "feeds.yaml")
        edition = config.editions["bench"]
        issue_dir = write_invented_issue(folder, config)

        sink = Sink()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        rows: list[tuple[str, int, float]] = []
        try:
            started = time.perf_counter()
            with State(state_url(config)) as state:
                # Every message written (a dry run otherwise writes a sample): the baseline sends them.
                outbox = OutboxDeliverer.for_issue(issue_dir, sample=None)
                pipeline.send_issue(config, edition, state, issue_dir, dry_run=True, deliverer=outbox)
            rows.append(
                ("digest send --dry-run (make + write .eml)", args.subscribers, time.perf_counter() - started)
            )
            messages = [p.read_bytes() for p in sorted((issue_dir / "outbox").glob("*.eml"))]

            for connections in (1, 2):
                configure(folder, port, connections, f"c{connections}")
                config = load_config(folder / "feeds.yaml")
                before = sink.count
                started = time.perf_counter()
                with State(state_url(config)) as state:
                    report = pipeline.send_issue(config, config.editions["bench"], state, issue_dir)
                elapsed = time.perf_counter() - started
                assert report.sent == args.subscribers == sink.count - before, report.summary()
                rows.append(
                    (
                        f"digest send, {connections} connection{'s' if connections > 1 else ''}",
                        report.sent,
                        elapsed,
                    )
                )

            before = sink.count
            started = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", port) as smtp:
                for index, message in enumerate(messages):
                    smtp.sendmail("bench@example.org", [f"reader{index}@example.org"], message)
            rows.append(
                (
                    "plain smtplib, same bytes, 1 connection",
                    sink.count - before,
                    time.perf_counter() - started,
                )
            )
        finally:
            controller.stop()

    size = sum(len(m) for m in messages) / len(messages)
    print(f"{args.subscribers} subscribers, {size / 1000:.1f} KB per message, loopback aiosmtpd\n")
    print(f"{'method':<44} {'messages':>8} {'seconds':>8} {'msg/s':>8}")
    for name, count, seconds in rows:
        print(f"{name:<44} {count:>8} {seconds:>8.2f} {count / seconds:>8.0f}")
    baseline = rows[-1][1] / rows[-1][2]
    best = max(count / seconds for name, count, seconds in rows[1:-1])
    print(f"\ndigest send's best rate is {best / baseline:.0%} of plain smtplib's (target: at least 50%)")
    name, count, seconds = greylisting_row(args.greylist_subscribers, args.greylisted)
    print(f"\n{name:<44} {count:>8} {seconds:>8.2f} {count / seconds:>8.0f}")
    print()
    print_shared(shared_row(args.shared_subscribers, args.senders, args.latency_ms / 1000))


if __name__ == "__main__":
    main()
