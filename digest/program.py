"""The ``digest`` program (the console script and ``python -m digest``).

``digest build`` starts the PDF renderer's child (render/pdf.py) before anything else, even
before the command line is parsed: the child's start (Python, WeasyPrint: most of a second of
CPU, at low priority) then overlaps the build's own imports and fetching, and on a small batch
the child was still starting when the first PDF was wanted (issue 8). A build that finds
nothing new stops it unused. The main group takes no option with a value, so a build is
exactly the command lines whose first argument is ``build``.
"""

from __future__ import annotations

import contextlib
import sys


def run() -> None:
    if sys.argv[1:2] == ["build"]:
        from digest.render.pdf import start_worker

        # A child that cannot be started here is started (or its failure reported, naming the
        # issue) when the first PDF is rendered; the command itself must still run.
        with contextlib.suppress(OSError):
            start_worker()
    from digest.cli import run as run_command

    run_command()
