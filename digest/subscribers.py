"""The subscribers file: CSV -> Subscriber values.

The file has a header row; the column ``email`` is required, ``name`` and
``pdf`` (yes/no) are known, any other column is allowed and ignored. Header
names are matched without regard to case or surrounding spaces.

Each data row is checked on its own. A row whose address is not one Digest
sends to (``digest.addresses``: the same rule as the config's addresses), or
whose ``pdf`` is neither yes nor no, is reported as ``FILE:LINE: reason`` (the
header is line 1) and skipped: it is never sent. Addresses are compared
case-insensitively and kept in lower case; a repeated address is kept once
(its first row wins) and reported. A file that cannot be read, has no
``email`` column, or has no usable row is a SubscribersError: nothing can be
sent from it. ``summarised`` shows the first few problems and counts the rest,
so a file of 120 bad rows says so in a few lines.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from digest.addresses import AddressError, check_address
from digest.errors import Problem, SubscribersError
from digest.text import counted

#: How many problems ``summarised`` shows before it counts the rest.
SHOWN_PROBLEMS = 5
YES = frozenset({"yes", "y", "true", "1"})
NO = frozenset({"no", "n", "false", "0"})


@dataclass(frozen=True)
class Subscriber:
    #: Lower case; the key of the ledger and the suppression list.
    address: str
    #: "" when the file gives none.
    name: str = ""
    #: The row's ``pdf`` column; None when empty, so the edition's ``attach_pdf`` decides.
    pdf: bool | None = None


@dataclass(frozen=True)
class SubscriberList:
    subscribers: tuple[Subscriber, ...]
    #: One per row skipped or merged; ``str()`` of each is ``FILE:LINE: reason``.
    problems: tuple[Problem, ...]


def summarised(problems: tuple[Problem, ...], shown: int = SHOWN_PROBLEMS) -> list[str]:
    """The first ``shown`` problems, one a line, then one line counting the others."""
    lines = [str(problem) for problem in problems[:shown]]
    rest = problems[shown:]
    if rest:
        lines.append(
            f"{rest[0].file}: {counted(len(rest), 'more row')} skipped or merged "
            f"(lines {rest[0].line} to {rest[-1].line}); digest check lists them all"
        )
    return lines


def read_subscribers(path: Path) -> SubscriberList:
    """Every usable row of the subscribers file, first occurrence of each address, in file order."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SubscribersError(f"{path}: no such subscribers file") from None
    except UnicodeDecodeError as err:
        raise SubscribersError(f"{path}: not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise SubscribersError(f"{path}: cannot read it: {err.strerror}") from None

    reader = csv.reader(text.splitlines(keepends=True))
    header = [column.strip().lower() for column in next(reader, [])]
    if "email" not in header:
        raise SubscribersError(f"{path}:1: the header row has no 'email' column")
    known = ("email", "name", "pdf")
    columns: dict[str, int] = {name: header.index(name) for name in known if name in header}

    subscribers: dict[str, Subscriber] = {}
    problems: list[Problem] = []
    start = reader.line_num + 1
    for row in reader:
        # A quoted field may span lines: the row starts where the previous one ended.
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue

        def cell(name: str, row: list[str] = row) -> str:
            index = columns.get(name)
            return row[index].strip() if index is not None and index < len(row) else ""

        try:
            address = check_address(cell("email"))
        except AddressError as err:
            problem = f"not an e-mail address: {cell('email')!r} ({err}); row skipped"
            problems.append(Problem(path.name, line, "", problem))
            continue
        pdf_text = cell("pdf").lower()
        if pdf_text and pdf_text not in YES | NO:
            problem = f"pdf must be yes or no, not {cell('pdf')!r}; row skipped"
            problems.append(Problem(path.name, line, "", problem))
            continue
        if address in subscribers:
            problems.append(Problem(path.name, line, "", f"{address} is listed again; it is sent once"))
            continue
        subscribers[address] = Subscriber(
            address=address, name=cell("name"), pdf=(pdf_text in YES) if pdf_text else None
        )
    if not subscribers:
        raise SubscribersError(f"{path}: no row with a usable address{_first_problem(problems)}")
    return SubscriberList(tuple(subscribers.values()), tuple(problems))


def _first_problem(problems: list[Problem]) -> str:
    if not problems:
        return " (the file lists nobody)"
    return f" ({counted(len(problems), 'row')} skipped; line {problems[0].line}: {problems[0].message})"
