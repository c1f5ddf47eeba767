"""Progress where a person waits: steps on a terminal, nothing in a pipe, JSON lines on request.

Each command runs as its own process. For "on a terminal", its stderr is the slave side of a
pseudo-terminal (the ``pty`` module) and the test reads the master side, as a terminal would.
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from smtpserver import LoopbackSmtp

from digest import resources
from digest.progress import BUILD_STEPS

REPO = Path(__file__).resolve().parents[1]
DEMO_SOURCES = ("world.xml", "science.atom", "city.xml", "wire.rdf")
#: Lines each build step prints on a terminal (ProgressEvent.describe), for the demo's four sources.
BUILD_LINES = (
    "digest: paper: fetching 4 sources",
    "digest: paper: condensing up to",
    "digest: paper: rendering the e-mail, the web page and the PDF",
    "digest: paper: writing the issue folder",
)


def project(root: Path, smtp_port: int | None = None) -> Path:
    shutil.copytree(resources.demo(), root / "demo")
    lines = ["editions:", "  paper:", "    title: The Test Paper", "    lookback: all", "    sources:"]
    lines += [f"      - url: demo/{name}" for name in DEMO_SOURCES]
    if smtp_port is not None:
        lines += [
            "    delivery:",
            "      from: paper@example.org",
            "      subscribers: subscribers.csv",
            f"      smtp: {{host: 127.0.0.1, port: {smtp_port}, security: none}}",
        ]
        readers = "".join(f"reader{n}@example.org\n" for n in range(3))
        (root / "subscribers.csv").write_text("email\n" + readers, "utf-8")
    (root / "feeds.yaml").write_text("\n".join(lines) + "\n", "utf-8")
    return root / "feeds.yaml"


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "DIGEST_SECRET": "progress-test-secret", "COLUMNS": "100"}


def digest(*args: str) -> subprocess.CompletedProcess[str]:
    """The command with stderr in a pipe (not a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment(),
    )


def on_a_terminal(*args: str) -> tuple[int, str, str]:
    """The command with stderr on a pseudo-terminal: (exit status, stdout, what the terminal showed)."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", *args],
        stdout=subprocess.PIPE,
        stderr=slave,
        stdin=subprocess.DEVNULL,
        env=environment(),
    )
    os.close(slave)
    shown = b"".join(_read_all(master))
    os.close(master)
    out = process.stdout.read() if process.stdout else b""
    status = process.wait(timeout=120)
    return status, out.decode(), shown.decode("utf-8", "replace")


def _read_all(master: int) -> Iterator[bytes]:
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the slave side closed: the process is gone
            return
        if not chunk:
            return
        yield chunk


@pytest.mark.slow
def test_a_build_on_a_terminal_shows_its_steps(tmp_path: Path) -> None:
    config = project(tmp_path)
    status, out, shown = on_a_terminal("build", "--config", str(config), "--now", "2026-12-08T07:00:00+00:00")
    assert status == 0, shown
    assert out.strip().endswith("2026-12-08")
    positions = [shown.find(line) for line in BUILD_LINES]
    assert -1 not in positions, shown
    assert positions == sorted(positions), shown


@pytest.mark.slow
def test_a_build_in_a_pipe_prints_no_progress(tmp_path: Path) -> None:
    config = project(tmp_path)
    done = digest("build", "--config", str(config), "--now", "2026-12-08T07:00:00+00:00")
    assert done.returncode == 0, done.stderr
    assert not [line for line in BUILD_LINES if line in done.stderr], done.stderr
    assert "\r" not in done.stderr  # no bar either


@pytest.mark.slow
def test_json_log_format_carries_the_same_steps_as_json_lines(tmp_path: Path) -> None:
    config = project(tmp_path)
    done = digest(
        "build", "--config", str(config), "--now", "2026-12-08T07:00:00+00:00", "--log-format", "json"
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines()]
    steps = [r for r in records if r.get("event") in BUILD_STEPS]
    assert [r["event"] for r in steps if r["event"] != "fetched"] == [
        "fetching",
        "condensing",
        "rendering",
        "writing",
    ]
    fetched = [r for r in steps if r["event"] == "fetched"]
    assert sorted(r["done"] for r in fetched) == [1, 2, 3, 4]
    assert {r["total"] for r in fetched} == {4}
    assert all(r["edition"] == "paper" and r["level"] == "info" for r in steps)
    assert steps[0]["message"] == "paper: fetching 4 sources"


@pytest.mark.slow
def test_a_send_on_a_terminal_shows_its_progress_and_a_wait_for_a_retry(tmp_path: Path) -> None:
    with LoopbackSmtp() as smtp:
        config = project(tmp_path, smtp.port)
        built = digest("build", "--config", str(config), "--now", "2026-12-08T07:00:00+00:00")
        assert built.returncode == 0, built.stderr
        # The second reader's server is busy once: the sender waits, then tries again.
        smtp.handler.replies["reader1@example.org"] = ["451 4.7.1 greylisted, try again later"]
        status, out, shown = on_a_terminal("send", "--config", str(config))
        assert status == 0, shown
        assert sorted(smtp.copies()) == [f"reader{n}@example.org" for n in range(3)]
    assert "digest: paper: sending 3 messages" in shown, shown
    assert "digest: paper: waiting 2 s before trying again: reader1@example.org: 451" in shown, shown
    assert "3 sent" in out


@pytest.mark.slow
def test_a_send_in_a_pipe_prints_no_progress(tmp_path: Path) -> None:
    with LoopbackSmtp() as smtp:
        config = project(tmp_path, smtp.port)
        assert digest("build", "--config", str(config), "--now", "2026-12-08T07:00:00+00:00").returncode == 0
        done = digest("send", "--config", str(config))
        assert done.returncode == 0, done.stderr
        assert len(smtp.received) == 3
    assert "sending" not in done.stderr and "\r" not in done.stderr, done.stderr
