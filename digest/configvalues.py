"""The value types of feeds.yaml: what each kind of value is parsed into, and how it is checked.

digest/config.py puts these types on its fields. Each parses the file's text into the value the
rest of Digest uses (``"24h"`` -> ``timedelta``, ``Europe/Berlin`` -> ``ZoneInfo``, a cron
expression -> ``CronSchedule``) or checks it where it stays text (URLs, addresses, names of
environment variables), raising ValueError with the message a person editing the file reads.
What a check needs beyond the value (the config's folder; for ``digest check``, the files and
variables named) comes in ``Checking``, pydantic's validation context.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, PlainValidator, ValidationInfo
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from digest.errors import Problem
from digest.schedule import CronSchedule
from digest.urls import has_credentials

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DURATION = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
DURATION_HINT = "a duration such as 90m, 24h or 7d"


# --- What the file is checked against besides itself -------------------------------------------------------


@dataclass
class Checking:
    """What validation needs beyond the values: passed to pydantic as its context by load_config.

    Without it (a model built in code), relative paths stay as they are and nothing outside the
    values is looked at.
    """

    #: The config file's folder: relative paths in the file are relative to it.
    folder: Path
    #: The condenser names a build can make, asked only of a file that names a backend (the
    #: registry imports the condensers); None leaves ``condense.backend`` to the condenser's factory.
    backends: Callable[[], Collection[str]] | None = None
    #: ``digest check``: also look at what a build and a send need (files, environment variables).
    ready: bool = False
    #: Problems inside other files (a subscribers file's rows), as they are.
    elsewhere: list[Problem] = field(default_factory=list)
    #: Subscribers files already read (editions may share one).
    read: set[Path] = field(default_factory=set)


def checking_of(info: ValidationInfo) -> Checking | None:
    found = info.context.get("checking") if isinstance(info.context, dict) else None
    return found if isinstance(found, Checking) else None


def absolute(folder: Path, value: str) -> Path:
    return folder / Path(value).expanduser()


# --- Value types --------------------------------------------------------------------------------------------


def parse_duration(text: str) -> timedelta:
    """``"90m"``, ``"24h"``, ``"7d"`` -> timedelta. Raises ValueError otherwise."""
    match = DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not {DURATION_HINT}")
    amount, unit = int(match.group(1)), match.group(2)
    return {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]


def format_duration(span: timedelta) -> str:
    """timedelta -> the config's own way of writing it (``timedelta(hours=2)`` -> ``"2h"``)."""
    minutes = int(span.total_seconds() // 60)
    for unit, size in (("d", 24 * 60), ("h", 60)):
        if minutes and minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def _duration_or(words: tuple[str, ...], message: str) -> Callable[[Any], timedelta | str]:
    """A validator taking a duration, or one of ``words`` as they are."""

    def validate(value: Any) -> timedelta | str:
        if isinstance(value, timedelta) or value in words:
            return value  # type: ignore[no-any-return]
        if isinstance(value, str):
            try:
                return parse_duration(value)
            except ValueError:
                pass
        raise ValueError(message)

    return validate


def _lookback(value: Any) -> timedelta | None:
    parsed = _duration_or(("all",), f"must be {DURATION_HINT}, or all")(value)
    return parsed if isinstance(parsed, timedelta) else None


def _time_zone(value: Any) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a time zone name such as Europe/Berlin")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    close = difflib.get_close_matches(value, sorted(available_timezones()), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise ValueError(f"unknown time zone '{value}'{hint}")


def _schedule(value: Any) -> CronSchedule:
    if isinstance(value, CronSchedule):
        return value
    if not isinstance(value, str):
        raise ValueError('must be text: a cron expression such as "0 7 * * 1-5"')
    try:
        return CronSchedule.parse(value)
    except ValueError as err:
        raise ValueError(f"not a valid cron expression: {err}") from None


def http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be an http(s) URL such as https://example.org/, not {value!r}")
    return value


def site_url(value: str) -> str:
    http_url(value)
    # Every link of every issue starts with the edition's base_url: a password in it is published.
    if has_credentials(value):
        raise ValueError(
            "must not carry a user name or password (user:password@): every issue would publish it"
        )
    return value if value.endswith("/") else value + "/"


def _env_name(value: str, info: ValidationInfo) -> str:
    if not ENV_NAME.match(value):
        raise ValueError("must be the name of an environment variable (letters, digits and _)")
    checking = checking_of(info)
    if checking is not None and checking.ready and not os.environ.get(value):
        raise ValueError(f"the environment variable {value} is not set")
    return value


def _address(display_name: bool) -> Callable[[str], str]:
    def validate(value: str) -> str:
        # Imported here: only editions that deliver need it, and a build need not pay for its import.
        from digest.addresses import AddressError, check_address

        try:
            check_address(value, display_name=display_name)
        except AddressError as err:
            raise ValueError(f"not an e-mail address: {value!r} ({err})") from None
        return value

    return validate


#: The placeholder of a return path template (``delivery.bounces.return_path``).
PLACEHOLDER = "{token}"


def _return_path_template(template: str) -> str:
    local, at, domain = template.rpartition("@")
    if template.count(PLACEHOLDER) != 1 or PLACEHOLDER not in local:
        raise ValueError(
            f"must hold {PLACEHOLDER} once, before the @, as in bounces+{PLACEHOLDER}@example.org"
        )
    if not at or not domain or "<" in template or " " in template.strip():
        raise ValueError(f"must be a bare address such as bounces+{PLACEHOLDER}@example.org")
    # With a token filled in, it must be an address a server takes as MAIL FROM.
    bare_address(template.replace(PLACEHOLDER, "token"))
    return template


def existing_file(value: str, info: ValidationInfo) -> str:
    checking = checking_of(info)
    if checking is not None and checking.ready and not absolute(checking.folder, value).is_file():
        raise ValueError(f"no such file: {absolute(checking.folder, value)}")
    return value


#: A duration in the file ("90m", "24h", "7d").
Lookback = Annotated[timedelta | None, PlainValidator(_lookback)]
CatchUp = Annotated[
    timedelta | Literal["next", "never"],
    PlainValidator(_duration_or(("next", "never"), f"must be next, never or {DURATION_HINT}")),
]
TimeZone = Annotated[ZoneInfo, PlainValidator(_time_zone)]
Schedule = Annotated[CronSchedule, PlainValidator(_schedule)]
#: The name of an environment variable (never the secret itself).
EnvName = Annotated[str, AfterValidator(_env_name)]
HttpUrl = Annotated[str, AfterValidator(http_url)]
#: An address, a display name allowed: ``Morning Briefing <briefing@example.org>``.
Mailbox = Annotated[str, AfterValidator(_address(display_name=True))]
#: Checks a bare address: ``leave@example.org``.
bare_address = _address(display_name=False)
Address = Annotated[str, AfterValidator(bare_address)]
#: An envelope sender with a per-subscriber token: ``bounces+{token}@example.org``.
ReturnPathTemplate = Annotated[str, AfterValidator(_return_path_template)]


# --- Problems at a place of their own ------------------------------------------------------------------


def raised_again(error: ErrorDetails) -> InitErrorDetails:
    """An error of an inner validation, to raise again with others."""
    again: InitErrorDetails = {"type": error["type"], "loc": error["loc"], "input": error["input"]}
    if "ctx" in error:
        again["ctx"] = error["ctx"]
    return again


def located_error(where: tuple[str | int, ...], message: str, given: Any) -> InitErrorDetails:
    return {
        "type": PydanticCustomError("value_error", "{error}", {"error": message}),
        "loc": where,
        "input": given,
    }
