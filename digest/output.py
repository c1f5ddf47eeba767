"""Writing under out/: issue folders that appear whole or not at all.

An issue folder is built aside and moved into place in one step:

1. every file is written into ``<edition_dir>/.building-<issue_id>-<random>/``
   and flushed to disk (fsync), so a crash leaves only a hidden temporary
   folder, never a half-written issue;
2. the folder is renamed to ``<edition_dir>/<issue_id>`` (a rename is atomic
   within one file system), and the edition folder is fsynced so the rename
   itself survives a crash;
3. on any failure the temporary folder is removed.

An issue folder is never overwritten: ``digest render`` rewrites the files of
an existing issue one at a time with ``replace_files``, each replaced
atomically (temporary file in the same folder, then ``os.replace``), which is
also how the archive's ``index.html`` and ``feed.xml`` are updated.

Reading: ``read_issues`` loads every issue.json of an edition, newest first,
skipping the hidden temporary folders of builds in progress.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from digest import issuejson
from digest.errors import OutputError
from digest.types import Issue, Rendered


def _write_synced(path: Path, content: bytes) -> None:
    with path.open("xb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _check_name(name: str, where: Path) -> None:
    """A name must stay one visible entry of ``where``: no separators, no "..", no hidden names."""
    if not name or name.startswith(".") or "/" in name or "\\" in name or "\x00" in name:
        raise OutputError(f"{where / name}: not a valid file or folder name: {name!r}")


def write_issue(edition_dir: Path, issue_id: str, rendered: Rendered) -> Path:
    """Write the issue folder ``edition_dir/issue_id`` whole, or raise OutputError and write nothing."""
    _check_name(issue_id, edition_dir)
    target = edition_dir / issue_id
    try:
        edition_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"{edition_dir}: cannot create: {err.strerror or err}") from err
    if target.exists():
        raise OutputError(f"{target}: already exists")
    try:
        building = Path(tempfile.mkdtemp(prefix=f".building-{issue_id}-", dir=edition_dir))
    except OSError as err:
        raise OutputError(f"{edition_dir}: cannot create a folder: {err.strerror or err}") from err
    try:
        for name, content in rendered.files().items():
            _write_synced(building / name, content)
        # mkdtemp makes the folder 0700; an issue is meant to be served and read by others.
        building.chmod(0o755)
        _sync_folder(building)
        # Checked again just before the move, narrowing the window of a concurrent build;
        # os.rename would silently replace an empty folder of the same name.
        if target.exists():
            raise OutputError(f"{target}: already exists")
        os.rename(building, target)
        _sync_folder(edition_dir)
    except OSError as err:
        shutil.rmtree(building, ignore_errors=True)
        raise OutputError(f"{target}: cannot write: {err.strerror or err}") from err
    except BaseException:
        # Whatever went wrong (a bug, Ctrl-C), no half-built folder stays behind.
        shutil.rmtree(building, ignore_errors=True)
        raise
    return target


def withdraw_issue(issue_dir: Path) -> None:
    """Take a finished issue folder out of the edition again, as if it had never been moved in.

    Renamed to a hidden name first, so that the archive and the next build stop seeing it at once,
    even if removing its files then fails; a hidden leftover is only clutter.
    """
    try:
        hidden = Path(tempfile.mkdtemp(prefix=f".withdrawn-{issue_dir.name}-", dir=issue_dir.parent))
        os.rename(issue_dir, hidden / issue_dir.name)
    except OSError as err:
        raise OutputError(f"{issue_dir}: cannot withdraw: {err.strerror or err}") from err
    shutil.rmtree(hidden, ignore_errors=True)


def replace_files(folder: Path, files: Mapping[str, bytes]) -> None:
    """Replace (or create) each file of ``folder`` atomically; the folder must exist."""
    for name, content in files.items():
        _check_name(name, folder)
        target = folder / name
        temporary: Path | None = None
        try:
            descriptor, temporary_name = tempfile.mkstemp(prefix=f".{name}-", dir=folder)
            temporary = Path(temporary_name)
            with os.fdopen(descriptor, "wb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            temporary.chmod(0o644)
            os.replace(temporary, target)
        except OSError as err:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    temporary.unlink()
            raise OutputError(f"{target}: cannot write: {err.strerror or err}") from err
    with contextlib.suppress(OSError):
        _sync_folder(folder)


def read_issues(edition_dir: Path) -> tuple[Issue, ...]:
    """Every issue of an edition folder, newest (``built_at``) first; none when the folder is absent.

    A broken issue.json raises InputError naming it.
    """
    if not edition_dir.is_dir():
        return ()
    issues = [
        issuejson.load(folder / "issue.json")
        for folder in edition_dir.iterdir()
        if folder.is_dir() and not folder.name.startswith(".") and (folder / "issue.json").is_file()
    ]
    return newest_first(issues)


def newest_first(issues: Iterable[Issue]) -> tuple[Issue, ...]:
    """Issues by build time, newest first (the issue id breaks ties, later ids first)."""
    return tuple(sorted(issues, key=lambda i: (i.built_at, i.issue_id), reverse=True))
