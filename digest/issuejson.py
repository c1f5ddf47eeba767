"""Issue <-> issue.json, the issue as data (CONTRACT.md fixes its fields).

Writing is a plain walk over the dataclasses; dates are ISO 8601, a source's
``published`` in UTC, ``built_at`` with the edition's offset. Entry ids,
which the contract does not name, travel in an extra ``id`` key so that
``from_dict(to_dict(issue)) == issue`` and an issue rendered again from its
JSON still knows which entries it used.

Reading is strict, because editors change issue.json by hand (cut, reorder,
reword stories) before ``digest render``: every value is checked for its
type, and the first problem raises InputError with its path inside the
document, ``issue.json: stories[2].headline: missing``. Keys the reader does
not know are ignored, so a newer file still loads; the ``id`` keys may be
absent (hand-written stories) and default to "".

A user name and password in a link (``https://user:secret@host/``) is dropped
on reading, as ingest drops it on fetching (digest/urls.py): an issue.json
edited by hand, or written before Digest left them out, publishes none either.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar, cast, get_args

from digest.errors import InputError
from digest.types import (
    Briefing,
    BrieflyItem,
    Dateline,
    FeedStatus,
    FeedStatusName,
    Issue,
    Section,
    SourceRef,
)
from digest.urls import without_credentials

T = TypeVar("T")
_FEED_STATUSES: tuple[str, ...] = get_args(FeedStatusName)


# -- writing ---------------------------------------------------------------


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def briefing_to_dict(b: Briefing) -> dict[str, Any]:
    """One story object of issue.json (also one line of ``digest condense --json``)."""
    return {
        "headline": b.headline,
        "dateline": {"date": b.dateline.date.isoformat(), "place": b.dateline.place},
        "lede": list(b.lede),
        "sections": [{"question": s.question, "answer": list(s.answer)} for s in b.sections],
        "sources": [
            {"title": s.title, "url": s.url, "feed": s.feed, "published": _utc(s.published), "id": s.entry_id}
            for s in b.sources
        ],
    }


def to_dict(issue: Issue) -> dict[str, Any]:
    """The issue as issue.json's object, ready for ``json.dumps``."""
    return {
        "edition": issue.edition,
        "issue_id": issue.issue_id,
        "title": issue.title,
        "date": issue.date.isoformat(),
        "built_at": issue.built_at.isoformat(),
        "stories": [briefing_to_dict(b) for b in issue.stories],
        "briefly": [
            {"headline": i.headline, "summary": i.summary, "url": i.url, "feed": i.feed, "id": i.entry_id}
            for i in issue.briefly
        ],
        "feeds": [
            {"name": f.name, "url": f.url, "status": f.status, "error": f.error, "entries": f.entries}
            for f in issue.feeds
        ],
        "report": list(issue.report),
        "config": issue.config,
        # Not the contract's either: the e-mail's Subject as the build rendered it, for `digest send`.
        "subject": issue.subject,
    }


def dumps(issue: Issue) -> bytes:
    """issue.json's bytes: UTF-8, indented, ending in a newline."""
    return (json.dumps(to_dict(issue), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# -- reading ---------------------------------------------------------------


class _Reader:
    """Typed access to a JSON document; every failure names the file and the path inside it."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, problem: str) -> InputError:
        return InputError(f"{self.origin}: {where}: {problem}" if where else f"{self.origin}: {problem}")

    def value(self, data: object, key: str, where: str, kind: type[T], *, default: Any = ...) -> T:
        path = f"{where}.{key}" if where else key
        if not isinstance(data, Mapping):
            raise self.fail(where, "not an object")
        if key not in data:
            if default is ...:
                raise self.fail(path, "missing")
            return cast(T, default)
        found = data[key]
        # bool is an int in Python, but "entries": true is not a count.
        if not isinstance(found, kind) or (kind is int and isinstance(found, bool)):
            raise self.fail(path, f"expected {_KIND_NAMES.get(kind, kind.__name__)}, got {_json_kind(found)}")
        return found

    def items(self, data: object, key: str, where: str, read: Callable[[object, str], T]) -> tuple[T, ...]:
        path = f"{where}.{key}" if where else key
        return tuple(read(each, f"{path}[{n}]") for n, each in enumerate(self.value(data, key, where, list)))

    def texts(self, data: object, key: str, where: str) -> tuple[str, ...]:
        def read(each: object, path: str) -> str:
            if not isinstance(each, str):
                raise self.fail(path, f"expected a string, got {_json_kind(each)}")
            return each

        return self.items(data, key, where, read)

    def date(self, data: object, key: str, where: str) -> date:
        text = self.value(data, key, where, str)
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise self.fail(f"{where}.{key}" if where else key, f"not an ISO date: {text!r}") from None

    def moment(self, data: object, key: str, where: str) -> datetime:
        text = self.value(data, key, where, str)
        path = f"{where}.{key}" if where else key
        try:
            found = datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(path, f"not an ISO 8601 date and time: {text!r}") from None
        if found.tzinfo is None:
            raise self.fail(path, f"no UTC offset: {text!r}")
        return found


_KIND_NAMES = {str: "a string", int: "a number", list: "a list", dict: "an object"}


def _json_kind(value: object) -> str:
    names = {type(None): "null", bool: "true/false", str: "a string", int: "a number", float: "a number"}
    return names.get(type(value), "a list" if isinstance(value, list) else "an object")


def _briefing(r: _Reader, data: object, where: str) -> Briefing:
    def section(each: object, path: str) -> Section:
        return Section(question=r.value(each, "question", path, str), answer=r.texts(each, "answer", path))

    def source(each: object, path: str) -> SourceRef:
        return SourceRef(
            title=r.value(each, "title", path, str),
            url=without_credentials(r.value(each, "url", path, str)),
            feed=r.value(each, "feed", path, str),
            published=r.moment(each, "published", path).astimezone(UTC),
            entry_id=r.value(each, "id", path, str, default=""),
        )

    dateline = r.value(data, "dateline", where, dict)
    return Briefing(
        headline=r.value(data, "headline", where, str),
        dateline=Dateline(
            date=r.date(dateline, "date", f"{where}.dateline"),
            place=r.value(dateline, "place", f"{where}.dateline", str, default=""),
        ),
        lede=r.texts(data, "lede", where),
        sections=r.items(data, "sections", where, section),
        sources=r.items(data, "sources", where, source),
    )


def from_dict(data: Mapping[str, Any], origin: str) -> Issue:
    """The Issue that issue.json's object describes; InputError naming ``origin`` and the path."""
    r = _Reader(origin)

    def briefly(each: object, path: str) -> BrieflyItem:
        return BrieflyItem(
            headline=r.value(each, "headline", path, str),
            summary=r.value(each, "summary", path, str, default=""),
            url=without_credentials(r.value(each, "url", path, str, default="")),
            feed=r.value(each, "feed", path, str, default=""),
            entry_id=r.value(each, "id", path, str, default=""),
        )

    def feed(each: object, path: str) -> FeedStatus:
        status = r.value(each, "status", path, str)
        if status not in _FEED_STATUSES:
            raise r.fail(f"{path}.status", f"expected one of {', '.join(_FEED_STATUSES)}, got {status!r}")
        error = r.value(each, "error", path, object, default=None)
        if error is not None and not isinstance(error, str):
            raise r.fail(f"{path}.error", f"expected a string or null, got {_json_kind(error)}")
        return FeedStatus(
            name=r.value(each, "name", path, str),
            url=without_credentials(r.value(each, "url", path, str)),
            status=cast(FeedStatusName, status),
            error=without_credentials(error) if error else error,
            entries=r.value(each, "entries", path, int, default=0),
        )

    return Issue(
        edition=r.value(data, "edition", "", str),
        issue_id=r.value(data, "issue_id", "", str),
        title=r.value(data, "title", "", str),
        date=r.date(data, "date", ""),
        built_at=r.moment(data, "built_at", ""),
        stories=r.items(data, "stories", "", lambda each, path: _briefing(r, each, path)),
        briefly=r.items(data, "briefly", "", briefly) if "briefly" in data else (),
        feeds=r.items(data, "feeds", "", feed) if "feeds" in data else (),
        report=r.texts(data, "report", "") if "report" in data else (),
        config=r.value(data, "config", "", str, default=""),
        subject=r.value(data, "subject", "", str, default=""),
    )


def load(path: Path) -> Issue:
    """Read an issue.json; InputError naming the file when it is unreadable or wrong."""
    try:
        data = json.loads(path.read_bytes())
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror or err}") from err
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"{path}: not valid JSON: {err}") from err
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object, got {_json_kind(data)}")
    return from_dict(data, str(path))
