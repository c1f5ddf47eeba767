"""The subscribers file: CSV -> Subscriber values.

The file has a header row; the column ``email`` is required, ``name`` and
``pdf`` (yes/no) are known, any other column is allowed and ignored. Header
names are matched without regard to case or surrounding spaces.

Each data row is checked on its own. A row whose address is not a plain
``local@domain`` address (ASCII, no display name, a dotted domain), or whose
``pdf`` is neither yes nor no, is reported as ``FILE:LINE: reason`` (the
header is line 1) and skipped: it is never sent. Addresses are compared
case-insensitively and kept in lower case; a repeated address is kept once
(its first row wins) and reported. A file that cannot be read, or has no
``email`` column, is a SubscribersError: nothing can be sent from it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from digest.errors import SubscribersError

#: A deliberately plain address: what every relay accepts without SMTPUTF8 or quoting.
ADDRESS = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$"
)
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
    #: One line per row skipped or merged, each starting ``FILE:LINE:``.
    problems: tuple[str, ...]


def normalise_address(text: str) -> str | None:
    """``text`` as a ledger key (trimmed, lower case), or None when it is not a plain address."""
    address = text.strip()
    if len(address) > 254 or not ADDRESS.match(address):
        return None
    return address.lower()


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
    problems: list[str] = []
    start = reader.line_num + 1
    for row in reader:
        # A quoted field may span lines: the row starts where the previous one ended.
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue

        def cell(name: str, row: list[str] = row) -> str:
            index = columns.get(name)
            return row[index].strip() if index is not None and index < len(row) else ""

        address = normalise_address(cell("email"))
        if address is None:
            problems.append(f"{path.name}:{line}: not an e-mail address: {cell('email')!r}; row skipped")
            continue
        pdf_text = cell("pdf").lower()
        if pdf_text and pdf_text not in YES | NO:
            problems.append(f"{path.name}:{line}: pdf must be yes or no, not {cell('pdf')!r}; row skipped")
            continue
        if address in subscribers:
            problems.append(f"{path.name}:{line}: {address} is listed again; it is sent once")
            continue
        subscribers[address] = Subscriber(
            address=address, name=cell("name"), pdf=(pdf_text in YES) if pdf_text else None
        )
    return SubscriberList(tuple(subscribers.values()), tuple(problems))
