"""The PDF renderer's child process: ``python -m digest.render.pdfworker`` (started by pdf.py).

It reads jobs from stdin and writes answers to stdout, each a pickle preceded
by its length (``pdf.FRAME``), one at a time, until stdin closes. Its own
stdout is taken away from everything else first: a stray ``print`` from a
library would corrupt the next answer.

The child runs at a lower priority (``NICENESS``). A build starts it early, so that importing
WeasyPrint (most of a second of CPU) is done before the first PDF is wanted; meanwhile the
build fetches, parses and clusters on both cores, and a child competing with that work on
equal terms delayed the very stories the PDF waits for (issue 8). Lower priority only counts
when the cores are busy: on an idle machine the child renders as fast as before.

The cyclic garbage collector is off while a job renders and runs once after its answer is
sent: WeasyPrint makes hundreds of thousands of objects for a long briefing, and the
collector's passes over them took a tenth of the render (issue 8). One render's cycles are
freed before the next starts, so the child's memory stays that of one PDF.
"""

from __future__ import annotations

import gc
import os
import pickle
import sys

from digest.render.pdf import FRAME

#: Added to the child's niceness (Unix), before it imports WeasyPrint.
NICENESS = 10


def serve() -> None:
    jobs, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr
    if hasattr(os, "nice"):
        os.nice(NICENESS)
    # Imported here, after the priority is lowered: the import is most of the child's start.
    from digest.render.pdfwrite import attempt

    # What the imports made lives as long as the child: no collection needs to look at it again.
    gc.freeze()
    gc.disable()
    while header := jobs.read(FRAME.size):
        (length,) = FRAME.unpack(header)
        answer = pickle.dumps(attempt(pickle.loads(jobs.read(length))))
        answers.write(FRAME.pack(len(answer)) + answer)
        answers.flush()
        gc.collect()


if __name__ == "__main__":
    serve()
