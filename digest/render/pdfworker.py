"""The PDF renderer's child process: ``python -m digest.render.pdfworker`` (started by pdf.py).

It reads jobs from stdin and writes answers to stdout, each a pickle preceded
by its length (``pdf.FRAME``), one at a time, until stdin closes. Its own
stdout is taken away from everything else first: a stray ``print`` from a
library would corrupt the next answer.
"""

from __future__ import annotations

import pickle
import sys

from digest.render.pdf import FRAME
from digest.render.pdfwrite import attempt


def serve() -> None:
    jobs, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr
    while header := jobs.read(FRAME.size):
        (length,) = FRAME.unpack(header)
        answer = pickle.dumps(attempt(pickle.loads(jobs.read(length))))
        answers.write(FRAME.pack(len(answer)) + answer)
        answers.flush()


if __name__ == "__main__":
    serve()
