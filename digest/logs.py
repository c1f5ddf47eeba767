"""Log lines for machines: ``--log-format json``.

Each record becomes one JSON object on one line (json.dumps escapes newlines and
control characters, so a feed's text can never split or forge a line), with:

- ``time``: when, ISO 8601 in UTC with milliseconds;
- ``level``: ``debug``, ``info``, ``warning`` or ``error``;
- ``logger``: ``digest``, or ``apscheduler.…`` for the scheduler library's own lines;
- ``message``: the same text the human format shows;
- the context fields a call passes in ``extra`` when it has them: ``event`` (what happened:
  ``run-started``, ``built``, ``skipped``, ``failed``, ``sent``, ...), ``edition`` and ``issue``;
  progress events (digest/progress.py: ``fetching``, ``fetched``, ... ``retry-wait``) add
  ``done`` and ``total`` where they count, ``seconds`` where they wait;
- ``traceback``, when the record carries one (with ``--verbose``).

``fields(...)`` builds that ``extra`` so the names stay the same everywhere.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

#: Control characters (terminal escapes among them) never reach the terminal from feed text.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"

#: The context a log call may carry, in the order they appear in a line (the last three: progress counts).
CONTEXT_FIELDS = ("event", "edition", "issue", "done", "total", "seconds")
LOG_FORMATS = ("text", "json")


def fields(event: str, edition: str | None = None, issue: str | None = None) -> dict[str, Any]:
    """The ``extra`` of a log call: what happened, to which edition and issue."""
    context = {"event": event, "edition": edition, "issue": issue}
    return {name: value for name, value in context.items() if value is not None}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)
