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
  retry policy.

Usage::

    .venv/bin/pip install -e '.[test]'
    .venv/bin/python benchmarks/send.py [--subscribers 2000] [--only greylisting]

``--only greylisting`` runs that row alone; with ``PYTHONPATH`` set to another
checkout it measures that checkout's code (the row uses only ``pipeline.send_issue``).
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from digest import pipeline
from digest.assemble import links_for
from digest.config import EditionConfig, load_config
from digest.output import write_issue
from digest.render import render_issue
from digest.render.templates import environment
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


def write_invented_issue(folder: Path, edition: EditionConfig) -> Path:
    issue = invented_issue()
    with PdfRenderer() as renderer:
        links = links_for(edition.base_url, issue.issue_id)
        rendered = render_issue(issue, edition, links, environment(None), renderer)
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
        issue_dir = write_invented_issue(folder, edition)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--greylist-subscribers", type=int, default=500)
    parser.add_argument("--greylisted", type=int, default=15)
    parser.add_argument("--only", choices=["greylisting"], default=None)
    args = parser.parse_args()
    os.environ.setdefault("DIGEST_SECRET", "benchmark-secret")
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
        issue_dir = write_invented_issue(folder, edition)

        sink = Sink()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        rows: list[tuple[str, int, float]] = []
        try:
            started = time.perf_counter()
            with State(state_url(config)) as state:
                pipeline.send_issue(config, edition, state, issue_dir, dry_run=True)
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


if __name__ == "__main__":
    main()
