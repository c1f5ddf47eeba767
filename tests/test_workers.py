"""The processes a build starts (digest/workers.py): what each one promises, with real processes.

The workers give the same results as builtins.map and leave no process behind; a worker that
dies is a WorkerError, not a hang; a PDF over its time limit is a RenderError naming it, and the
build that wanted it fails with that error and writes nothing; and a ``digest build`` killed
with SIGKILL at any moment leaves no process of its own behind.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from factories import pdf_renderer

from digest import pipeline
from digest.config import load_config
from digest.errors import RenderError, WorkerError
from digest.render import pdf
from digest.render.pdf import PdfInfo
from digest.state import State
from digest.workers import PdfRenderer, Workers, _Pool

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
import feeds  # noqa: E402  (benchmarks/ is not a package)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
INFO = PdfInfo(title="Limits", author="Tests", created=NOW)
#: The test process: a worker is any other.
PARENT = os.getpid()


def square(number: int) -> int:
    return number * number


def whose(_item: int) -> int:
    # A little work, as any real item is: time for the pool to take its chunks before this process does.
    time.sleep(0.002)
    return os.getpid()


def dies_in_a_worker(item: int) -> int:
    if multiprocessing.parent_process() is not None:  # a worker
        os._exit(3)
    time.sleep(0.002)
    return item


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has ended; only its exit status is left for its parent.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rpartition(")")[2].split()[0] == "Z")


def gone(pids: set[int], within: float = 15.0) -> set[int]:
    """The pids still alive after waiting (bounded) for them to end."""
    deadline = time.monotonic() + within
    left = {pid for pid in pids if alive(pid)}
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = {pid for pid in left if alive(pid)}
    return left


def test_a_map_gives_what_builtins_map_gives_and_the_pool_leaves_no_process() -> None:
    items = list(range(1000))
    with Workers(2) as workers:
        assert workers.start()
        assert list(workers.map(square, items)) == [n * n for n in items]
        pids = set(workers.map(whose, items))
    assert pids - {PARENT}, "the workers took a share of the work"
    assert gone(pids - {PARENT}) == set()


def test_the_calling_process_always_works_on_the_last_chunk_itself() -> None:
    with Workers(1) as workers:
        assert workers.start()
        # Two items, two chunks: the pool could take both, and this process would only wait.
        assert list(workers.map(whose, [1, 2]))[-1] == PARENT


def wait_for(path: Path) -> None:
    """A warm-up that lasts until ``path`` exists (bounded)."""
    for _ in range(3000):
        if path.exists():
            return
        time.sleep(0.01)


def test_a_pool_is_ready_for_work_only_once_its_processes_have_warmed_up(tmp_path: Path) -> None:
    go = tmp_path / "go"
    pool = _Pool(1, warm_up=functools.partial(wait_for, go))
    try:
        pool.wait_started()
        # Started, but still warming up: a map hands it nothing yet and works in its own process.
        assert not pool.ready.is_set()
        go.touch()
        pool.wait_ready()
        assert pool.ready.is_set()
    finally:
        pool.close(kill=True)


def test_without_worker_processes_a_map_works_here() -> None:
    with Workers(0) as workers:
        assert not workers.start()
        assert set(workers.map(whose, range(50))) == {PARENT}


def test_a_worker_that_dies_is_an_error_not_a_hang() -> None:
    with Workers(1) as workers:
        assert workers.start()
        with pytest.raises(WorkerError, match="a worker process died while running dies_in_a_worker"):
            list(workers.map(dies_in_a_worker, range(200)))


def test_a_pdf_over_its_time_limit_is_an_error_naming_it_and_the_renderer_goes_on(tmp_path: Path) -> None:
    long_html = "<table>" + "<tr><td>cell</td></tr>" * 20000 + "</table>"
    with PdfRenderer(time_limit=0.3) as renderer:
        with pytest.raises(RenderError, match=r"^briefing\.pdf: Limits: took longer than 0\.3 s; stopped$"):
            renderer.render(pdf.job(long_html, tmp_path, INFO))
        assert renderer.render(pdf.job("<p>Short</p>", tmp_path, INFO)).startswith(b"%PDF-")


def test_a_build_whose_pdf_runs_out_of_time_fails_with_that_error_and_writes_nothing(tmp_path: Path) -> None:
    served = feeds.documents(4, 6, now=NOW)
    with feeds.FeedServer(served) as server:
        sources = "".join(f"      - url: {url}\n" for url in server.urls())
        (tmp_path / "feeds.yaml").write_text(
            f"editions:\n  bench:\n    title: Bench\n    lookback: all\n    sources:\n{sources}"
        )
        config = load_config(tmp_path / "feeds.yaml")
        with State.of(config) as state, PdfRenderer(time_limit=0.01) as renderer:
            with pytest.raises(RenderError, match=r"briefing\.pdf: .*took longer than 0\.01 s; stopped"):
                pipeline.build_edition(
                    config,
                    config.editions["bench"],
                    state,
                    out_dir=tmp_path / "out",
                    now=NOW,
                    renderer=renderer,
                )
            # What the build learnt was written while the PDF was made, and not committed.
            assert state.issues.last_issue("bench") is None
            assert state.entries.kept_entries("bench") == ()
            assert state.fetch.validators(server.urls()) == {}
    assert not [p for p in (tmp_path / "out").glob("bench/*") if not p.name.startswith(".")]


def test_the_shared_renderer_renders(tmp_path: Path) -> None:
    assert pdf_renderer().render(pdf.job("<p>Shared</p>", tmp_path, INFO)).startswith(b"%PDF-")


# --- a build killed at any moment leaves no process behind ------------------------------------------------


def _children() -> dict[int, list[int]]:
    """Every process's children, read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return children


def _descendants(root: int) -> set[int]:
    children, found, todo = _children(), set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _start_time(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        return None


def kill_build_at(config: Path, after: float) -> tuple[set[int], set[int]]:
    """Start ``digest build`` and SIGKILL it ``after`` seconds after its first process of its own
    appeared; (its descendants seen, those left alive)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    build = subprocess.Popen(
        [sys.executable, "-m", "digest", "build", "--config", str(config)],
        cwd=config.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen: dict[int, str | None] = {}
    # A loaded machine takes seconds to start Python and import the build's modules.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and build.poll() is None:
        for pid in _descendants(build.pid):
            if pid not in seen:
                seen[pid] = _start_time(pid)
                deadline = min(deadline, time.monotonic() + after)
        time.sleep(0.02)
    build.send_signal(signal.SIGKILL)
    build.wait()
    # A pid reused by an unrelated process since is not a survivor: the start time tells them apart.
    survivors = {pid for pid in gone(set(seen)) if _start_time(pid) == seen[pid] and seen[pid] is not None}
    return set(seen), survivors


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
def test_a_build_killed_at_any_moment_leaves_no_process_behind(tmp_path: Path) -> None:
    kills = int(os.environ.get("DIGEST_TEST_KILLS", "6"))
    served = feeds.documents(80, 20, now=NOW)
    randomly = random.Random(17)
    seen_any: set[int] = set()
    with feeds.FeedServer(served) as server:
        sources = "".join(f"      - url: {url}\n" for url in server.urls())
        for number in range(kills):
            folder = tmp_path / f"kill-{number}"
            folder.mkdir()
            (folder / "feeds.yaml").write_text(
                f"state_dir: state\neditions:\n  bench:\n    title: Bench\n    lookback: all\n"
                f"    sources:\n{sources}"
            )
            seen, survivors = kill_build_at(folder / "feeds.yaml", randomly.uniform(0.0, 4.0))
            seen_any |= seen
            assert survivors == set(), f"kill {number}: processes {sorted(survivors)} outlived the build"
    assert seen_any, "the builds started processes of their own before they were killed"
