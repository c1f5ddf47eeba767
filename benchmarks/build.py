"""How fast is `digest build`, cold and warm, next to rss2email on the same feeds?

For each size (feeds x entries, default 200x11 and 200x50) the benchmark generates the feeds
(benchmarks/feeds.py: invented full-text news, some stories in several feeds), serves them from a
loopback HTTP server that honours conditional GET, and times, each as a child process:

* ``digest build`` cold: a fresh state store and out/ folder, every entry new, up to a finished
  issue (issue.json, text, e-mail, web page, PDF, .eml);
* ``digest build`` warm: the same command again, with ``--since`` the cold run's end; every
  source answers 304, the entries the cold issue had no room for stay kept for a later issue
  (read, and outside that window), and nothing is built;
* a scheduled build cold: the same edition built as ``digest run`` builds it (the scheduler
  started, the edition's run made now, the scheduler stopped once the run is recorded), which
  must take at most 10% longer than ``digest build`` cold;
* ``digest build`` cold on a busy machine: two CPU-bound processes run beside it for the whole
  build, which must take at most 3 times its time on the machine as it was;
* rss2email 3.14 (``r2e run``) cold and warm on the same feeds, in digest mode (one message per
  feed), handing its mail to a ``sendmail`` stand-in that files each message: a strict SMTP
  server refuses rss2email's unwrapped long lines (see shared MEASUREMENTS.md).

rss2email is installed from the package registry into its own venv (``--r2e-venv``, default
under /tmp), never into the project's. Each child is started by a small launcher process that
measures the wall time around it and its peak memory (``ru_maxrss`` of the launcher's children:
Linux folds in the descendants they waited for, so the PDF renderer and the extraction child
count); forked from the benchmark itself, a child would be charged the benchmark's own memory.
``--profile FILE`` also runs one cold build under cProfile and prints the functions that took
the most time.

``--server`` chooses what serves the feeds: ``own`` (the benchmark's HTTP/1.1 keep-alive server),
``http.server`` (``python -m http.server`` in a child process: HTTP/1.0, a connection per request,
a listen backlog of 5, no ETag) or ``both`` (the default), each measured with both tools.

Usage::

    .venv/bin/python benchmarks/build.py                    # 200x11 and 200x50, with rss2email
    .venv/bin/python benchmarks/build.py --size 20x5 --no-rss2email
    .venv/bin/python benchmarks/build.py --size 200x50 --profile /tmp/cold.prof
    .venv/bin/python benchmarks/build.py --size 200x11 --server http.server

Figures are printed, never asserted: the targets (cold at most half of rss2email's time, warm at
most 1 s, peak at most 500 MiB, scheduled within 10% of the command, busy at most 3x) are shown
beside them. ``--no-busy`` leaves out the busy-machine build.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feeds import Document, FeedServer, StaticFeedServer, documents  # a script beside this one

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = ("200x11", "200x50")
DEFAULT_R2E_VENV = Path(tempfile.gettempdir()) / "digest-bench-rss2email"
R2E_VERSION = "3.14"
#: Targets of issue 8.
COLD_RATIO_TARGET = 0.5
WARM_TARGET_S = 1.0
PEAK_TARGET_MIB = 500.0
#: What can serve the feeds (see the module docstring).
SERVERS = {"own": FeedServer, "http.server": StaticFeedServer}
SCHEDULED_RATIO_TARGET = 1.1
BUSY_RATIO_TARGET = 3.0
#: Keeps one core busy until it is killed.
BUSY_LOOP = "while True: pass"

#: Builds the edition ``bench`` as ``digest run`` does: the scheduler started, the edition's run
#: made now, the scheduler stopped once the state store has the run's record.
SCHEDULED_BUILD = """
import sys, time
from pathlib import Path
from digest.config import load_config
from digest.scheduler import EditionScheduler
from digest.state import State
config = load_config(Path(sys.argv[1]))
runner = EditionScheduler(config, Path(sys.argv[2]))
runner.start()
runner.run_now("bench")
with State.of(config) as state:
    while not state.runs.last_runs("bench"):
        time.sleep(0.01)
    run = state.runs.last_runs("bench")[0]
runner.stop()
print(run.outcome, run.reason, file=sys.stderr)
sys.exit(0 if run.outcome == "built" else 1)
"""


@dataclass(frozen=True)
class Run:
    """One timed child process."""

    wall: float
    peak_mib: float
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Outcome:
    """One tool on one size: its cold and warm runs and what they produced."""

    tool: str
    cold: Run
    warm: Run
    #: What the cold run produced ("1 issue", "200 messages") and what the warm one did.
    cold_output: str
    warm_output: str
    #: A cold build by the scheduler's code path, and one beside two busy cores (digest only).
    scheduled: Run | None = None
    busy: Run | None = None


#: Runs argv[2:] and writes "<wall seconds> <peak KiB>" to the file argv[1]. Started by ``timed``
#: so that the measured child is forked from this small process, not from the benchmark: Linux
#: charges a child the peak resident size of the process it was forked from (the benchmark holds
#: every generated feed), which would set a floor under every figure.
LAUNCHER = """
import resource, subprocess, sys, time
start = time.perf_counter()
status = subprocess.call(sys.argv[2:])
wall = time.perf_counter() - start
# Children include what they waited for in turn (the PDF renderer, the extraction child): the peak
# is the largest of them.
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w") as report:
    report.write(f"{wall} {peak}")
sys.exit(status)
"""


def timed(command: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run ``command``; wall time and peak resident memory of the child (and what it waited for)."""
    with tempfile.TemporaryDirectory() as scratch:
        figures, out, err = (Path(scratch) / name for name in ("figures", "stdout", "stderr"))
        launcher = [sys.executable, "-c", LAUNCHER, str(figures), *command]
        with out.open("wb") as stdout, err.open("wb") as stderr:
            child = subprocess.run(
                launcher, cwd=cwd, env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL
            )
        wall, peak_kib = figures.read_text().split()
        # ru_maxrss is in KiB on Linux.
        return Run(float(wall), int(peak_kib) / 1024, child.returncode, out.read_text(), err.read_text())


def parse_size(text: str) -> tuple[int, int]:
    feeds, _, entries = text.lower().partition("x")
    try:
        return int(feeds), int(entries)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not FEEDSxENTRIES, such as 200x11") from None


# --- digest ------------------------------------------------------------------------------------------------


def digest_config(folder: Path, urls: Sequence[str]) -> Path:
    """A feeds.yaml with one edition reading every URL; the state and out/ inside ``folder``."""
    lines = [
        "state_dir: state",
        "editions:",
        "  bench:",
        "    title: Benchmark Briefing",
        "    lookback: all",
        "    max_stories: 12",
        "    sources:",
        *(f"      - url: {url}" for url in urls),
    ]
    path = folder / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def digest_command(config: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "digest",
        "build",
        "--config",
        str(config),
        "--out",
        str(config.parent / "out"),
    ]


def digest_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO), env.get("PYTHONPATH"))))
    return env


def run_digest(folder: Path, urls: Sequence[str], *, busy: bool) -> Outcome:
    config = digest_config(folder, urls)
    command, env = digest_command(config), digest_env()
    cold = timed(command, cwd=folder, env=env)
    # Without --since the warm build would publish what the cold issue had no room for; with the
    # cold run's end, every entry (published and first seen before it) is outside its window.
    finished = (datetime.now(UTC) + timedelta(seconds=1)).isoformat(timespec="seconds")
    warm = timed([*command, "--since", finished], cwd=folder, env=env)
    scheduled_config = digest_config(fresh(folder, "scheduled"), urls)
    scheduled = timed(
        [sys.executable, "-c", SCHEDULED_BUILD, str(scheduled_config), str(scheduled_config.parent / "out")],
        cwd=scheduled_config.parent,
        env=env,
    )
    runs = {"cold": cold, "warm": warm, "scheduled": scheduled}
    if busy:
        busy_config = digest_config(fresh(folder, "busy"), urls)
        with busy_cores(2):
            runs["busy"] = timed(digest_command(busy_config), cwd=busy_config.parent, env=env)
    for name, run in runs.items():
        # A busy machine may make a build fail (a PDF over its time limit): that is a figure too.
        if run.returncode != 0 and name != "busy":
            raise SystemExit(f"digest build ({name}) failed with status {run.returncode}:\n{run.stderr}")
    return Outcome(
        "digest", cold, warm, _issues(cold), _issues(warm), scheduled=scheduled, busy=runs.get("busy")
    )


def failure(run: Run) -> str:
    """The last line a failed run printed."""
    lines = run.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit status {run.returncode}"


def fresh(folder: Path, name: str) -> Path:
    """An empty folder beside ``folder``'s files, for a build with a state store of its own."""
    path = folder / name
    path.mkdir()
    return path


@contextmanager
def busy_cores(count: int) -> Iterator[None]:
    """``count`` processes each keeping a core busy, for as long as the block runs."""
    loops = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(count)]
    try:
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def _issues(run: Run) -> str:
    paths = [line for line in run.stdout.splitlines() if line.strip()]
    if not paths:
        return "no issue"
    stories = len(json.loads((Path(paths[0]) / "issue.json").read_text())["stories"])
    return f"{len(paths)} issue, {stories} stories"


def profile_cold_build(folder: Path, urls: Sequence[str], profile_file: Path, top: int = 25) -> None:
    """One cold build under cProfile; prints the functions with the most cumulative and own time."""
    config = digest_config(folder, urls)
    command = [
        sys.executable,
        "-m",
        "cProfile",
        "-o",
        str(profile_file),
        "-m",
        "digest",
        *digest_command(config)[3:],
    ]
    run = timed(command, cwd=folder, env=digest_env())
    print(f"\nprofile of a cold build ({run.wall:.2f} s under cProfile) -> {profile_file}")
    stats = pstats.Stats(str(profile_file))
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


# --- rss2email ---------------------------------------------------------------------------------------------

#: Files each message it is given, as a local MTA would queue it.
SENDMAIL_STANDIN = """#!/bin/sh
exec cat > "$(mktemp "{outbox}/msg.XXXXXXXX")"
"""


def ensure_rss2email(venv: Path) -> Path | None:
    """The venv's ``r2e``, installing rss2email from the registry first if needed; None when it cannot."""
    r2e = venv / "bin" / "r2e"
    if r2e.exists():
        return r2e
    print(f"installing rss2email {R2E_VERSION} into {venv} ...", file=sys.stderr)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", f"rss2email=={R2E_VERSION}"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    except (subprocess.CalledProcessError, OSError) as err:
        print(f"rss2email could not be installed ({err}); leaving it out", file=sys.stderr)
        return None
    return r2e


def rss2email_files(folder: Path, urls: Sequence[str]) -> tuple[Path, Path, Path]:
    """Config, data file and outbox for ``r2e run`` over ``urls`` in digest mode via the stand-in."""
    outbox = folder / "outbox"
    outbox.mkdir()
    sendmail = folder / "sendmail"
    sendmail.write_text(SENDMAIL_STANDIN.format(outbox=outbox))
    sendmail.chmod(0o755)
    names = [f"f{index}" for index in range(len(urls))]
    config = folder / "r2e.cfg"
    sections = [
        "[DEFAULT]",
        "from = bench@example.org",
        "to = reader@example.org",
        "digest = True",
        "email-protocol = sendmail",
        f"sendmail = {sendmail}",
        "",
        *(f"[feed.{name}]\nurl = {url}\n" for name, url in zip(names, urls, strict=True)),
    ]
    config.write_text("\n".join(sections))
    data = folder / "r2e.json"
    feeds: list[dict[str, object]] = [
        {"name": name, "etag": None, "modified": None, "seen": {}} for name in names
    ]
    data.write_text(json.dumps({"version": 2, "feeds": feeds}))
    return config, data, outbox


def run_rss2email(r2e: Path, folder: Path, urls: Sequence[str]) -> Outcome:
    config, data, outbox = rss2email_files(folder, urls)
    command = [str(r2e), "-c", str(config), "-d", str(data), "run"]
    cold = timed(command, cwd=folder)
    sent_cold = len(list(outbox.iterdir()))
    warm = timed(command, cwd=folder)
    sent_warm = len(list(outbox.iterdir())) - sent_cold
    return Outcome("rss2email", cold, warm, f"{sent_cold} messages", f"{sent_warm} messages")


# --- the table ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SizeResult:
    server: str
    feeds: int
    entries: int
    megabytes: float
    digest: Outcome
    rss2email: Outcome | None
    not_modified: int


def measure(
    server_kind: str, feeds: int, entries: int, r2e: Path | None, workdir: Path, *, busy: bool
) -> SizeResult:
    served: list[Document] = documents(feeds, entries)
    megabytes = sum(len(d.body) for d in served) / 1e6
    print(
        f"{feeds}x{entries} on {server_kind}: {sum(d.items for d in served)} entries, {megabytes:.1f} MB",
        file=sys.stderr,
    )
    with SERVERS[server_kind](served) as server:
        urls = server.urls()
        name = f"{feeds}x{entries}-{server_kind}"
        digest_dir = workdir / f"digest-{name}"
        digest_dir.mkdir()
        before = server.not_modified
        digest = run_digest(digest_dir, urls, busy=busy)
        not_modified = server.not_modified - before
        other = None
        if r2e is not None:
            r2e_dir = workdir / f"rss2email-{name}"
            r2e_dir.mkdir()
            other = run_rss2email(r2e, r2e_dir, urls)
    return SizeResult(server_kind, feeds, entries, megabytes, digest, other, not_modified)


def table(results: Sequence[SizeResult]) -> str:
    rows = [
        "| feeds x entries, server | measure | digest | rss2email | digest / rss2email | target |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        size = f"{result.feeds} x {result.entries} ({result.megabytes:.0f} MB), {result.server}"
        total = result.feeds * result.entries
        d, r = result.digest, result.rss2email

        def row(
            measure: str, mine: float, theirs: float | None, unit: str, target: str = "", size: str = size
        ) -> str:
            other = "n/a" if theirs is None else f"{theirs:.2f}{unit}"
            ratio = f"{mine / theirs:.2f}" if theirs else ""
            return f"| {size} | {measure} | {mine:.2f}{unit} | {other} | {ratio} | {target} |"

        r_cold, r_warm = (None, None) if r is None else (r.cold.wall, r.warm.wall)
        rows += [
            row("cold wall time", d.cold.wall, r_cold, " s", f"ratio <= {COLD_RATIO_TARGET}"),
            row("cold entries/s", total / d.cold.wall, r_cold and total / r_cold, ""),
            row("warm wall time (all 304)", d.warm.wall, r_warm, " s", f"<= {WARM_TARGET_S:g} s"),
            row(
                "peak memory, cold",
                d.cold.peak_mib,
                None if r is None else r.cold.peak_mib,
                " MiB",
                f"<= {PEAK_TARGET_MIB:g} MiB",
            ),
            row("peak memory, warm", d.warm.peak_mib, None if r is None else r.warm.peak_mib, " MiB"),
            *(
                [
                    f"| {size} | scheduled build, cold (digest run's path) | {d.scheduled.wall:.2f} s | "
                    f"digest build {d.cold.wall:.2f} s | {d.scheduled.wall / d.cold.wall:.2f} "
                    f"| ratio <= {SCHEDULED_RATIO_TARGET:g} |"
                ]
                if d.scheduled
                else []
            ),
            *(
                [
                    f"| {size} | cold, two busy cores beside it | {d.busy.wall:.2f} s"
                    f"{'' if d.busy.returncode == 0 else ' FAILED: ' + failure(d.busy)} | "
                    f"as it was {d.cold.wall:.2f} s | {d.busy.wall / d.cold.wall:.2f} "
                    f"| ratio <= {BUSY_RATIO_TARGET:g} |"
                ]
                if d.busy
                else []
            ),
            f"| {size} | output cold / warm | {d.cold_output} / {d.warm_output} "
            f"| {'n/a' if r is None else f'{r.cold_output} / {r.warm_output}'} | | |",
        ]
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size",
        type=parse_size,
        action="append",
        help="FEEDSxENTRIES (repeatable; default 200x11 and 200x50)",
    )
    parser.add_argument("--no-rss2email", action="store_true", help="time digest alone")
    parser.add_argument("--no-busy", action="store_true", help="leave out the build beside two busy cores")
    parser.add_argument(
        "--r2e-venv", type=Path, default=DEFAULT_R2E_VENV, help="where rss2email is installed"
    )
    parser.add_argument("--profile", type=Path, help="also profile a cold build of the last size into FILE")
    parser.add_argument(
        "--server",
        choices=[*SERVERS, "both"],
        default="both",
        help="what serves the feeds: the benchmark's own server, python -m http.server, or both (default)",
    )
    args = parser.parse_args(argv)
    sizes = args.size or [parse_size(s) for s in DEFAULT_SIZES]
    server_kinds = list(SERVERS) if args.server == "both" else [args.server]
    r2e = None if args.no_rss2email else ensure_rss2email(args.r2e_venv)
    workdir = Path(tempfile.mkdtemp(prefix="digest-bench-"))
    try:
        results = [
            measure(kind, feeds, entries, r2e, workdir, busy=not args.no_busy)
            for feeds, entries in sizes
            for kind in server_kinds
        ]
        print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}")
        print(table(results))
        for result in results:
            size = f"{result.feeds}x{result.entries} on {result.server}"
            print(f"{size}: the server answered {result.not_modified} of digest's warm requests with 304")
        if args.profile:
            feeds, entries = sizes[-1]
            with SERVERS[server_kinds[-1]](documents(feeds, entries)) as server:
                folder = workdir / "profile"
                folder.mkdir()
                profile_cold_build(folder, server.urls(), args.profile)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
