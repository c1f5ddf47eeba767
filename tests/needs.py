"""What a test needs beyond the README's prerequisites, and a loud skip when it is absent.

The README's apt line (Pango, HarfBuzz subset, the fonts) is all the test command needs on a
fresh Debian 12. Some checks need more; each skip names the Debian package to install, and
`.ci/run` installs them all, so CI skips none of these. ``../shared`` (the format's reference
example and the condenser benchmark data) sits beside a development checkout only: a test
that reads it skips in a user's clone, and that is not a problem.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

#: ../shared, beside the repository.
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def program(name: str, package: str, why: str) -> str:
    """The path of ``name``, or a skip naming the Debian ``package`` that brings it."""
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"NEEDS {package}: {name} not found, so {why} is not checked (apt-get install {package})")
    return found


def fonts(packages: dict[str, str]) -> None:
    """Skip, naming the Debian packages, unless a font family containing each key is installed.

    ``packages`` maps a part of a family name ("CJK") to the package that brings it.
    """
    fc_list = program("fc-list", "fontconfig", "which fonts are installed")
    families = subprocess.run([fc_list, ":", "family"], capture_output=True, text=True, timeout=30).stdout
    missing = {part: package for part, package in packages.items() if part.lower() not in families.lower()}
    if missing:
        wanted = " ".join(sorted(set(missing.values())))
        pytest.skip(f"NEEDS {wanted}: no font for {', '.join(missing)} (apt-get install {wanted})")


def postgres_server(why: str) -> None:
    """Skip, naming Debian's ``postgresql`` package, unless PostgreSQL 15's server programs are
    installed (and, for root, the ``postgres`` user to run them as)."""
    import pwd

    import pgcluster

    if not pgcluster.available():
        pytest.skip(
            f"NEEDS postgresql: {pgcluster.BIN} has no initdb, so {why} is not checked on PostgreSQL "
            "(apt-get install postgresql)"
        )
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        if os.geteuid() == 0:
            pytest.skip(f"NEEDS postgresql: no postgres user to run the server as, so {why} is not checked")


def shared(relative: str, what: str) -> Path:
    """``../shared/<relative>``, or a skip saying it is development data a clone does not have."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(
            f"{what} not checked: it reads {relative} from ../shared (the reference example and the "
            "condenser benchmark data, kept beside a development checkout, never in the repository); "
            "a clone without it is complete"
        )
    return path
