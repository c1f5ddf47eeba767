"""The files the package carries, and ``digest init``, which copies some of them out.

Three folders ship inside the package (wheel or clone alike) and are found with
``importlib.resources``, never beside the source tree:

- ``templates/``: the default theme (a theme folder overrides it file by file);
- ``demo/``: the demo edition's feeds (invented news, fixed November 2026 dates);
- ``starter/``: what ``digest init`` writes besides the demo feeds: a commented
  ``feeds.yaml`` that reads ``demo/`` and a ``subscribers.csv.example``.

The template folder must be a real folder (Jinja2 and the PDF's URL fetcher read
files by path): an installed package is one; a package imported from a zip file
is extracted once, for the life of the process.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from digest.errors import UsageError

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)
_folders: dict[str, Path] = {}


def folder(name: str) -> Path:
    """The package's folder ``name`` (templates, demo, starter) as a path on disk."""
    found = _folders.get(name)
    if found is None:
        resource = resources.files("digest") / name
        if isinstance(resource, Path):
            found = resource.resolve()
        else:  # pragma: no cover - a zipped package
            found = _extracted.enter_context(resources.as_file(resource))
        _folders[name] = found
    return found


def templates() -> Path:
    """The default theme."""
    return folder("templates")


def demo() -> Path:
    """The demo edition's feeds."""
    return folder("demo")


def _files(root: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    """(relative path, file) of every file under ``root``, caches left out, sorted."""
    found: list[tuple[str, Traversable]] = []
    for item in sorted(root.iterdir(), key=lambda t: t.name):
        if item.name.startswith((".", "__")):
            continue
        if item.is_dir():
            found.extend(_files(item, f"{prefix}{item.name}/"))
        else:
            found.append((f"{prefix}{item.name}", item))
    return found


def starter_files() -> list[tuple[str, Traversable]]:
    """What ``digest init`` writes: (path relative to the new folder, packaged file)."""
    package = resources.files("digest")
    return _files(package / "starter") + _files(package / "demo", "demo/")


def init_folder(target: Path) -> list[Path]:
    """Write a ready folder at ``target``: feeds.yaml, the demo feeds, a subscribers example.

    The folder may exist (empty or not), but no file in it is overwritten: when any of the
    files is there already, nothing is written and UsageError names them.
    Returns the files written, in order.
    """
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target}: exists and is not a folder")
    plan = [(target / name, item) for name, item in starter_files()]
    existing = [path for path, _ in plan if path.exists() or path.is_symlink()]
    if existing:
        names = ", ".join(str(p.relative_to(target)) for p in existing)
        raise UsageError(f"{target}: would overwrite {names}; nothing was written (choose an empty folder)")
    written = []
    for path, item in plan:
        path.parent.mkdir(parents=True, exist_ok=True)
        with item.open("rb") as source, path.open("xb") as copy:
            shutil.copyfileobj(source, copy)
        written.append(path)
    return written
