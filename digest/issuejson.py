"""Issue <-> issue.json, the issue as data (CONTRACT.md fixes its fields).

Writing is a plain walk over the dataclasses; dates are ISO 8601, a source's
``published`` in UTC, ``built_at`` with the edition's offset. Entry ids,
which the contract does not name, travel in an extra ``id`` key so that
``from_dict(to_dict(issue)) == issue`` and an issue rendered again from its
JSON still knows which entries it used.

Reading is strict, because editors change issue.json by hand (cut, reorder,
reword stories) before ``digest render``: pydantic models check every value
for its type, and the first problem raises InputError with its path inside the
document, ``issue.json: stories[2].headline: missing``. Keys the reader does
not know are ignored, so a newer file still loads; the ``id`` keys may be
absent (hand-written stories) and default to "".

A user name and password in a link (``https://user:secret@host/``) is dropped
on reading, as ingest drops it on fetching (digest/urls.py): an issue.json
edited by hand, or written before Digest left them out, publishes none either.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from digest.config import dotted_key
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
#
# The document is validated by the pydantic models below, strictly (a number is not a string,
# true is not a count), then turned into the dataclasses of digest/types.py. The first problem
# pydantic finds, in document order, becomes the InputError: its location written as a path
# (``stories[2].headline``), its message in the words a person editing the file needs.


def _iso_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("wrong_kind", "expected a string, got {got}", {"got": _json_kind(value)})
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO date: {value!r}") from None


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        found = value
    elif not isinstance(value, str):
        raise PydanticCustomError("wrong_kind", "expected a string, got {got}", {"got": _json_kind(value)})
    else:
        try:
            found = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO 8601 date and time: {value!r}") from None
    if found.tzinfo is None:
        raise ValueError(f"no UTC offset: {value!r}")
    return found


#: A link as published: any user name and password dropped.
_Link = Annotated[str, AfterValidator(without_credentials)]
_Date = Annotated[date, PlainValidator(_iso_date)]
_Moment = Annotated[datetime, PlainValidator(_moment)]


class _Document(BaseModel):
    # Keys the reader does not know are ignored, so a newer file still loads.
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, populate_by_name=True)


class _Section(_Document):
    question: str
    answer: list[str]


class _Dateline(_Document):
    date: _Date
    place: str = ""


class _SourceRef(_Document):
    title: str
    url: _Link
    feed: str
    published: _Moment
    entry_id: str = Field(default="", alias="id")


class _Briefing(_Document):
    headline: str
    dateline: _Dateline
    lede: list[str]
    sections: list[_Section]
    sources: list[_SourceRef]

    def briefing(self) -> Briefing:
        return Briefing(
            headline=self.headline,
            dateline=Dateline(date=self.dateline.date, place=self.dateline.place),
            lede=tuple(self.lede),
            sections=tuple(Section(question=s.question, answer=tuple(s.answer)) for s in self.sections),
            sources=tuple(
                SourceRef(
                    title=s.title,
                    url=s.url,
                    feed=s.feed,
                    published=s.published.astimezone(UTC),
                    entry_id=s.entry_id,
                )
                for s in self.sources
            ),
        )


class _BrieflyItem(_Document):
    headline: str
    summary: str = ""
    url: _Link = ""
    feed: str = ""
    entry_id: str = Field(default="", alias="id")


class _FeedStatus(_Document):
    name: str
    url: _Link
    status: FeedStatusName
    error: Annotated[str, AfterValidator(without_credentials)] | None = None
    entries: int = 0


class _Issue(_Document):
    edition: str
    issue_id: str
    title: str
    date: _Date
    built_at: _Moment
    stories: list[_Briefing]
    briefly: list[_BrieflyItem] = []
    feeds: list[_FeedStatus] = []
    report: list[str] = []
    config: str = ""
    subject: str = ""

    def issue(self) -> Issue:
        return Issue(
            edition=self.edition,
            issue_id=self.issue_id,
            title=self.title,
            date=self.date,
            built_at=self.built_at,
            stories=tuple(b.briefing() for b in self.stories),
            briefly=tuple(
                BrieflyItem(
                    headline=i.headline, summary=i.summary, url=i.url, feed=i.feed, entry_id=i.entry_id
                )
                for i in self.briefly
            ),
            feeds=tuple(
                FeedStatus(name=f.name, url=f.url, status=f.status, error=f.error, entries=f.entries)
                for f in self.feeds
            ),
            report=tuple(self.report),
            config=self.config,
            subject=self.subject,
        )


def _json_kind(value: object) -> str:
    names = {type(None): "null", bool: "true/false", str: "a string", int: "a number", float: "a number"}
    return names.get(type(value), "a list" if isinstance(value, list | tuple) else "an object")


#: pydantic's error types -> what the value should have been.
_EXPECTED = {
    "string_type": "a string",
    "int_type": "a number",
    "list_type": "a list",
    "dict_type": "an object",
}


def _problem(error: ErrorDetails) -> str:
    """One of pydantic's errors -> ``path: message``, the path as issue.json's keys and indexes."""
    where = dotted_key(tuple(error["loc"]))
    kind, given = error["type"], error.get("input")
    if kind == "missing":
        message = "missing"
    elif kind == "model_type":
        message = "not an object"
    elif kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, got {_json_kind(given)}"
    elif kind == "literal_error":
        message = f"expected one of {', '.join(_FEED_STATUSES)}, got {given!r}"
    elif kind == "value_error":
        message = str(error.get("ctx", {}).get("error", error["msg"]))
    else:
        message = error["msg"]
    return f"{where}: {message}" if where else message


def from_dict(data: Mapping[str, Any], origin: str) -> Issue:
    """The Issue that issue.json's object describes; InputError naming ``origin`` and the path."""
    try:
        document = _Issue.model_validate(data)
    except ValidationError as err:
        raise InputError(f"{origin}: {_problem(err.errors(include_url=False)[0])}") from None
    return document.issue()


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
