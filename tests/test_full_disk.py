"""A build that meets a full disk loses nothing.

The issue folder is written after everything else is known, and the state store learns of the
build (validators, seen entries, the issue) only once the folder is in place. So a disk that fills
up while the folder is written must leave the store exactly as it was and no visible folder behind;
the next build, with room, publishes the same entries. Two ways to fill a disk:

- a real one: the build runs as a process in a mount namespace of its own (``unshare --mount``)
  where ``out/`` is a tmpfs too small for the issue; it needs root, and skips saying so elsewhere;
- an injected one, always run: the low-level file write raises ENOSPC halfway through the folder.

And the state store's own disk (a tmpfs too, under root): filling up at the commit, after the
issue folder is in place, it keeps nothing of the build, so the next build publishes the same
entries again (in an issue of its own) rather than losing them.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import needs
import pytest
from click.testing import Result
from test_kept_entries import CLOCK, NOW, build, issue_ids, write_config

import digest.output
from digest.state import State

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import feeds  # benchmarks/ is not a package

#: Room for the first files of an issue (its JSON and text) but not for all of them (about 180 KB).
TMPFS_SIZE = "64k"
NO_SPACE = os.strerror(errno.ENOSPC)

Rows = dict[str, list[tuple[object, ...]]]


def config_with_empty_store(folder: Path, server: feeds.FeedServer) -> tuple[Path, Path, Rows]:
    """A config of an edition of the server's feeds, its store (made empty) and the store's rows."""
    config = write_config(folder, server.urls(), max_stories=10)
    store = store_file(config)
    return config, store, rows(store)


def next_build(config: Path, server: feeds.FeedServer) -> Result:
    """The build after the failed one, with room: it knows no validator, so every feed answers whole."""
    result = build(config)
    assert server.not_modified == 0, "the failed build kept no validators"
    return result


def store_file(config: Path) -> Path:
    """The SQLite state store of a config that sets no state_dir, made empty (schema only)."""
    path = config.parent / ".digest" / "state.sqlite3"
    path.parent.mkdir(exist_ok=True)
    State(f"sqlite:///{path}").close()
    return path


#: Each source's failure streak is updated after every fetch, whatever comes of the build: it says how
#: the feeds answered, and nothing of what the next build publishes depends on it.
FETCH_OUTCOMES = "source_health"


def rows(store: Path) -> Rows:
    """Every row of every table of an SQLite store (the fetch outcomes aside), to compare a store
    before and after a build."""
    with contextlib.closing(sqlite3.connect(store)) as connection:
        listed = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = [name for (name,) in listed if name != FETCH_OUTCOMES]
        return {table: sorted(connection.execute(f'SELECT * FROM "{table}"'), key=repr) for table in tables}


def check_nothing_learnt(store: Path, before: Rows, urls: list[str]) -> None:
    assert rows(store) == before, "the failed build changed the state store"
    with State(f"sqlite:///{store}") as state:
        assert state.issues.last_issue("capped") is None
        assert state.fetch.validators(urls) == {}
        assert state.entries.kept_entries("capped") == ()


def test_a_build_that_fills_the_disk_exits_1_and_the_next_one_publishes_the_same_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: dict[str, bytes] = {}
    write_synced = digest.output._write_synced

    def fill_up(path: Path, content: bytes) -> None:
        """Writes the issue's first two files whole, half of the third, then finds the disk full."""
        if len(written) < 2:
            write_synced(path, content)
        else:
            path.write_bytes(content[: len(content) // 2])
            raise OSError(errno.ENOSPC, NO_SPACE, str(path))
        written[path.name] = content

    with feeds.FeedServer(feeds.documents(2, 2, now=CLOCK)) as server:
        config, store, before = config_with_empty_store(tmp_path, server)
        with monkeypatch.context() as patch:
            patch.setattr(digest.output, "_write_synced", fill_up)
            failed = build(config)
        assert failed.exit_code == 1, failed.output
        assert len(written) == 2, "the disk filled up while the issue folder was written"
        issue_dir = tmp_path / "out" / "capped" / "2026-11-24"
        assert f"{issue_dir}: cannot write: {NO_SPACE}" in failed.stderr
        assert not failed.stdout.strip()
        assert list((tmp_path / "out" / "capped").iterdir()) == [], "nothing half-written is left"
        check_nothing_learnt(store, before, server.urls())

        fixed = next_build(config, server)
        assert Path(fixed.stdout.strip()) == issue_dir
        # The entries the failed build meant to publish, from the issue.json it wrote before it failed.
        meant = json.loads(written["issue.json"])
        assert issue_ids(fixed) == {s["id"] for story in meant["stories"] for s in story["sources"]} | {
            item["id"] for item in meant.get("briefly", [])
        }
        assert len(issue_ids(fixed)) == 2 * 2


def mount_namespaces(probe: Path) -> str:
    """The unshare program, or a skip saying why this process may not mount a tmpfs in a mount
    namespace of its own."""
    unshare = needs.program("unshare", "util-linux", "a build on a real full disk (a small tmpfs)")
    tried = subprocess.run(
        [unshare, "--mount", "mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(probe)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if tried.returncode != 0:
        pytest.skip(
            "a build on a real full disk is not checked: mounting a tmpfs in a private mount namespace "
            f"needs root (here: uid {os.geteuid()}): {tried.stderr.strip()}"
        )
    return unshare


#: Runs a command with OUT (its first argument) a small tmpfs, then lists what is left in OUT: the
#: namespace, and the tmpfs with it, go when the command ends.
IN_SMALL_TMPFS = (
    'out=$1; size=$2; shift 2; mount -t tmpfs -o "size=$size,mode=0755" tmpfs "$out" || exit 97; '
    '"$@"; status=$?; echo "left in out:"; find "$out" -mindepth 1; exit $status'
)

#: Runs a command with the state folder (first argument) a tmpfs holding the store and a filler
#: file that leaves FREE (third) KiB; then copies the store's files to LEFT (second), outside it.
ON_FULL_STATE_FOLDER = (
    'state=$1; left=$2; free=$3; shift 3; cp "$state/state.sqlite3" "$left/" && '
    'mount -t tmpfs -o size=1m tmpfs "$state" && cp "$left/state.sqlite3" "$state/" || exit 97; '
    'room=$(df --output=avail -k "$state" | tail -n 1); '
    'dd if=/dev/zero of="$state/filler" bs=1k count=$((room - free)) 2>/dev/null; '
    '"$@"; status=$?; cp "$state"/state.sqlite3* "$left/"; exit $status'
)


def in_namespace(
    unshare: str, script: str, arguments: list[str], config: Path
) -> subprocess.CompletedProcess[str]:
    """``digest build`` of ``config``, run by ``script`` (given ``arguments``) in a mount namespace."""
    command = [sys.executable, "-m", "digest", "build", "--config", str(config), "--now", NOW]
    return subprocess.run(
        [unshare, "--mount", "sh", "-c", script, "sh", *arguments, *command],
        capture_output=True,
        text=True,
        timeout=300,
    )


def published_with_room(server: feeds.FeedServer, folder: Path) -> set[str]:
    """The entries a build that never meets a full disk publishes."""
    folder.mkdir()
    return issue_ids(build(write_config(folder, server.urls(), max_stories=10)))


@pytest.mark.slow
def test_a_build_on_a_full_tmpfs_exits_1_and_the_next_one_publishes_the_same_entries(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    unshare = mount_namespaces(out)
    with feeds.FeedServer(feeds.documents(2, 2, now=CLOCK)) as server:
        expected = published_with_room(server, tmp_path / "reference")
        config, store, before = config_with_empty_store(tmp_path, server)
        failed = in_namespace(unshare, IN_SMALL_TMPFS, [str(out), TMPFS_SIZE], config)
        assert failed.returncode == 1, failed.stderr
        assert f"{out / 'capped' / '2026-11-24'}: cannot write: {NO_SPACE}" in failed.stderr
        printed, left = failed.stdout.split("left in out:\n")
        assert not printed.strip(), "no issue folder was printed"
        assert left.split() == [str(out / "capped")], "nothing half-written is left in the edition's folder"
        check_nothing_learnt(store, before, server.urls())

        assert issue_ids(next_build(config, server)) == expected


@pytest.mark.slow
def test_a_build_whose_state_store_fills_its_disk_commits_nothing(tmp_path: Path) -> None:
    """The store has room to open and note the fetch, not for the whole build (it fails at the
    commit, after the issue folder is in place): the store is as it was, and the next build, with
    room, publishes the same entries again rather than losing them."""
    unshare = mount_namespaces(tmp_path)
    with feeds.FeedServer(feeds.documents(2, 2, now=CLOCK)) as server:
        expected = published_with_room(server, tmp_path / "reference")
        config, store, before = config_with_empty_store(tmp_path, server)
        left = tmp_path / "left"
        left.mkdir()
        failed = in_namespace(unshare, ON_FULL_STATE_FOLDER, [str(store.parent), str(left), "64"], config)
        assert failed.returncode == 1, failed.stderr
        assert f"{store}: (sqlite3.OperationalError) database or disk is full" in failed.stderr
        assert not failed.stdout.strip(), "no issue folder was printed"
        edition_dir = tmp_path / "out" / "capped"
        assert not (edition_dir / "2026-11-24").exists(), "the unrecorded issue was withdrawn"
        assert [p.name for p in edition_dir.iterdir() if not p.name.startswith(".")] == []
        # The store as the failed build left it, in its place again.
        for name in os.listdir(left):
            os.replace(left / name, store.parent / name)
        check_nothing_learnt(store, before, server.urls())

        assert issue_ids(next_build(config, server)) == expected
        folders = sorted(p.name for p in edition_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
        assert folders == ["2026-11-24"], "the archive holds the issue once, under its own id"
