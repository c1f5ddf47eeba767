"""Reading a mailbox of bounces: each message's bytes and a name to report it by.

Four kinds, told apart by what the location is:

- ``imaps://USER@HOST[:PORT]/FOLDER``: IMAP over TLS (port 993 by default,
  the INBOX when no folder is given), the password from an environment
  variable. The folder is opened read-only and messages are fetched with
  ``BODY.PEEK[]``, so nothing is marked read or moved: which reports were
  processed is the state store's business. Only the headers of a message
  whose Message-ID names a report read before are fetched, so a mailbox
  left to grow costs little on each run. Named ``URL;UID=n``;
- a folder with ``new/`` or ``cur/`` inside: a Maildir; the files of both are
  read (a mail client moves what it has shown from new/ to cur/). Named by
  their path;
- any other folder: its ``*.eml`` files, each one message;
- a file: an mbox when it begins with ``From `` (named ``PATH#N``, from 1),
  else one message.

Messages are yielded one at a time, in a stable order (file names, message
numbers, UIDs), so a mailbox of any size is read in little memory.
"""

from __future__ import annotations

import contextlib
import imaplib
import mailbox
import os
import re
import ssl
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import compat32
from pathlib import Path
from urllib.parse import unquote, urlsplit

from digest.deliver.reports import report_id
from digest.errors import MailboxError

IMAPS_PORT = 993
#: UIDs per header FETCH: keeps each command line short.
UIDS_PER_FETCH = 500
FETCHED_UID = re.compile(rb"\bUID (\d+)")
#: Seconds the IMAP server may take at any step.
IMAP_TIMEOUT = 60.0


@dataclass(frozen=True)
class Mail:
    #: The file, ``mbox#N`` or IMAP ``URL;UID=n``: how a skipped message is named.
    name: str
    raw: bytes
    #: True when the message was left unread (``raw`` empty): its Message-ID is a report read before.
    read_before: bool = False


def is_imap(location: str) -> bool:
    return location.lower().startswith("imaps://")


def read_mailbox(
    location: str,
    *,
    password_env: str | None = None,
    tls_context: ssl.SSLContext | None = None,
    read_before: Callable[[Iterable[str]], set[str]] | None = None,
) -> Iterator[Mail]:
    """Every message at ``location`` (a path, or an imaps:// URL).

    Over IMAP, ``read_before`` (report ids -> those already read) lets each message's header be
    fetched first, and a message whose Message-ID it knows is not downloaded (``Mail.read_before``).

    Raises:
        MailboxError: naming the location, when it cannot be read at all.
    """
    if is_imap(location):
        yield from _imap(location, password_env, tls_context, read_before)
        return
    path = Path(location).expanduser()
    if path.is_dir():
        maildir = [path / sub for sub in ("new", "cur") if (path / sub).is_dir()]
        files = (
            sorted(f for folder in maildir for f in folder.iterdir() if not f.name.startswith("."))
            if maildir
            else sorted(path.glob("*.eml"))
        )
        for file in files:
            try:
                raw = file.read_bytes()
            except (FileNotFoundError, IsADirectoryError):
                # A mail client moved it from new/ to cur/ meanwhile: the next run finds it there.
                continue
            except OSError as err:
                raise MailboxError(f"{file}: cannot read ({err.strerror or err})") from err
            yield Mail(str(file), raw)
    elif path.is_file():
        with path.open("rb") as opened:
            mbox = opened.read(5) == b"From "
        if mbox:
            yield from _mbox(path)
        else:
            yield Mail(str(path), _read(path))
    else:
        raise MailboxError(
            f"{location}: no such mailbox (a Maildir, mbox, folder of .eml files or imaps:// URL)"
        )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise MailboxError(f"{path}: cannot read ({err.strerror or err})") from err


def _mbox(path: Path) -> Iterator[Mail]:
    try:
        box = mailbox.mbox(path, create=False)
        for number, key in enumerate(box.iterkeys(), start=1):
            yield Mail(f"{path}#{number}", box.get_bytes(key))
    except OSError as err:
        raise MailboxError(f"{path}: cannot read the mbox ({err.strerror or err})") from err


def _imap(
    url: str,
    password_env: str | None,
    tls_context: ssl.SSLContext | None,
    read_before: Callable[[Iterable[str]], set[str]] | None,
) -> Iterator[Mail]:
    parts = urlsplit(url)
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    user = unquote(parts.username or "")
    if not parts.hostname or not user:
        raise MailboxError(f"{url}: an IMAP mailbox is imaps://USER@HOST[:PORT]/FOLDER")
    if parts.password is not None:
        raise MailboxError(f"{url}: put the password in an environment variable (password_env), not the URL")
    if not password_env:
        raise MailboxError(f"{url}: no password_env names the environment variable with the IMAP password")
    password = os.environ.get(password_env)
    if not password:
        raise MailboxError(f"{url}: environment variable {password_env} is not set (IMAP password)")
    shown = f"imaps://{user}@{parts.hostname}:{parts.port or IMAPS_PORT}/{folder}"
    try:
        client = imaplib.IMAP4_SSL(
            parts.hostname,
            parts.port or IMAPS_PORT,
            ssl_context=tls_context or ssl.create_default_context(),
            timeout=IMAP_TIMEOUT,
        )
    except (OSError, imaplib.IMAP4.error) as err:
        raise MailboxError(f"{shown}: cannot connect ({err})") from err
    try:
        client.login(user, password)
        status, _ = client.select(_quoted(folder), readonly=True)
        if status != "OK":
            raise MailboxError(f"{shown}: no such folder")
        status, found = client.uid("SEARCH", "ALL")
        uids = (
            found[0].decode("ascii").split()
            if status == "OK" and found and isinstance(found[0], bytes)
            else []
        )
        skipped = _read_before(client, uids, read_before) if read_before is not None else set()
        for uid in uids:
            if uid in skipped:
                yield Mail(f"{shown};UID={uid}", b"", read_before=True)
                continue
            status, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in data if isinstance(item, tuple)), None)
            if status == "OK" and raw is not None:
                yield Mail(f"{shown};UID={uid}", raw)
    except (OSError, imaplib.IMAP4.error) as err:
        raise MailboxError(f"{shown}: {err}") from err
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()


def _read_before(
    client: imaplib.IMAP4, uids: list[str], read_before: Callable[[Iterable[str]], set[str]]
) -> set[str]:
    """The UIDs whose Message-ID ``read_before`` knows, from their headers alone."""
    report_ids: dict[str, str] = {}
    for start in range(0, len(uids), UIDS_PER_FETCH):
        batch = ",".join(uids[start : start + UIDS_PER_FETCH])
        status, data = client.uid("FETCH", batch, "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        for item in data if status == "OK" else ():
            if isinstance(item, tuple) and (uid := FETCHED_UID.search(item[0])):
                header = message_from_bytes(item[1], policy=compat32).get("Message-ID")
                if header:
                    report_ids[uid.group(1).decode("ascii")] = report_id(str(header))
    known = read_before(report_ids.values())
    return {uid for uid, found in report_ids.items() if found in known}


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


__all__ = ["Mail", "is_imap", "read_mailbox"]
