"""feeds.yaml -> Config.

The schema below is the whole config: every key, its type and default, as
CONTRACT.md fixes them. ``load_config`` reads the YAML with line numbers,
validates it all at once and raises one ConfigError listing every problem as
``file:line: key: message`` (unknown keys come with a did-you-mean). Secrets
never appear in the file: keys ending in ``_env`` name environment variables.
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedBase, CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from digest.errors import ConfigError, Problem
from digest.schedule import cron_trigger
from digest.urls import has_credentials

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DURATION = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")


def parse_duration(text: str) -> timedelta:
    """``"90m"``, ``"24h"``, ``"7d"`` -> timedelta. Raises ValueError otherwise."""
    match = DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 90m, 24h or 7d")
    amount, unit = int(match.group(1)), match.group(2)
    return {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FetchConfig(Model):
    #: Seconds per source, start to end of the body.
    timeout: float = Field(default=20, gt=0)
    #: Body size after decompression.
    max_bytes: int = Field(default=10_000_000, gt=0)
    max_redirects: int = Field(default=5, ge=0)
    #: For URLs taken from feed content; configured sources are fetched wherever they point.
    allow_private_addresses: bool = False


class StateConfig(Model):
    #: Bring a state store whose schema is behind up to date when a command opens it; when false,
    #: commands refuse such a store and ``digest migrate`` upgrades it (operators who migrate by hand).
    auto_migrate: bool = True


class SourceConfig(Model):
    #: http(s) URL, or a path (made absolute against the config file's folder by load_config).
    url: str
    name: str | None = None
    full_text: bool = False


class CondenseConfig(Model):
    backend: str = "extractive"
    base_url: str = "http://localhost:11434/v1"
    model: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    timeout: float = Field(default=60, gt=0)
    #: The longest answer asked of the model; a small model on a CPU needs a smaller budget to finish.
    max_tokens: int = Field(default=2048, gt=0)


class UnsubscribeConfig(Model):
    secret_env: str = "DIGEST_SECRET"
    mailto: str | None = None


class SmtpConfig(Model):
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username_env: str | None = None
    password_env: str | None = None
    connections: int = Field(default=1, ge=1)
    rate: float | None = Field(default=None, gt=0)


class DkimConfig(Model):
    domain: str
    selector: str
    key_file: str | None = None
    key_env: str | None = None


class BouncesConfig(Model):
    #: The envelope sender, e.g. ``bounces+{token}@example.org``; None: the ``from`` address, as before.
    return_path: str | None = None
    #: Hard bounces (5.x.x) of an address before it is suppressed.
    hard_limit: int = Field(default=1, ge=1)
    #: Soft bounces (4.x.x, delays) before it is suppressed; None: counted, never suppressed.
    soft_limit: int | None = Field(default=None, ge=1)
    #: Where ``digest bounces`` reads without a PATH: a Maildir, mbox, folder of .eml files, or imaps:// URL.
    mailbox: str | None = None
    #: The IMAP password's environment variable, for an imaps:// mailbox.
    password_env: str | None = None


class DeliveryConfig(Model):
    from_: str = Field(alias="from")
    reply_to: str | None = None
    subscribers: str
    attach_pdf: bool = False
    unsubscribe: UnsubscribeConfig = UnsubscribeConfig()
    smtp: SmtpConfig = SmtpConfig()
    dkim: DkimConfig | None = None
    bounces: BouncesConfig = BouncesConfig()


class EditionConfig(Model):
    #: The key under ``editions``; filled in by load_config.
    name: str = ""
    title: str
    #: Standard five-field cron; 0 and 7 are Sunday.
    schedule: str = "0 7 * * *"
    timezone: str = "UTC"
    #: A first issue's window ("24h", "7d") or "all".
    lookback: str = "24h"
    max_stories: int = Field(default=12, ge=1)
    min_stories: int = Field(default=1, ge=0)
    #: "next", a duration, or "never".
    catch_up: str = "next"
    base_url: str = "http://localhost:8080/"
    theme: str | None = None
    images: bool = False
    sources: tuple[SourceConfig, ...] = Field(min_length=1)
    condense: CondenseConfig = CondenseConfig()
    delivery: DeliveryConfig | None = None


class Config(Model):
    #: The config file itself (absolute); relative paths in it are relative to its folder.
    path: Path = Path("feeds.yaml")
    state_dir: str = ".digest"
    database_url: str | None = None
    state: StateConfig = StateConfig()
    fetch: FetchConfig = FetchConfig()
    editions: dict[str, EditionConfig]

    @field_validator("editions")
    @classmethod
    def _at_least_one(cls, value: dict[str, EditionConfig]) -> dict[str, EditionConfig]:
        if not value:
            raise ValueError("at least one edition is required")
        return value

    @property
    def folder(self) -> Path:
        return self.path.parent


# --- Loading -----------------------------------------------------------------------------------------------
#
# The method: ruamel.yaml's round-trip loader reads the file into maps and sequences that remember the line
# of every key and item. That tree is copied into plain dicts, lists and scalars, and two passes look at the
# copy: the semantic checks below (cron, time zone, durations, URLs, secrets, ...), which skip values of the
# wrong type, and pydantic's validation, which reports exactly those. Both passes name a problem by its
# location, a tuple such as ("editions", "morning", "sources", 0, "url"); one function turns a location into
# the dotted key and the line of the deepest key or item along it that the file has. Nothing is returned
# until every problem of the file is known.

#: Where a problem is: keys of mappings and indexes of lists, from the top of the file.
Location = tuple[str | int, ...]

#: Keys that would hold a secret; the file names an environment variable instead (``password_env``).
SECRET_KEYS = frozenset({"password", "api_key", "secret", "username", "token"})
#: Keys load_config fills in itself; the file may not set them.
RESERVED_KEYS: dict[type[BaseModel], str] = {Config: "path", EditionConfig: "name"}
EDITION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
#: Used when digest.condense cannot be imported (it is still being written, or is broken).
FALLBACK_BACKENDS = ("extractive", "openai")
DURATION_HINT = "a duration such as 90m, 24h or 7d"


def load_config(path: Path, *, ready: bool = False) -> Config:
    """Read feeds.yaml, validate everything, and return the Config.

    With ``ready`` (``digest check``), it also checks what a build and a send will need beyond
    the file itself (see ``_readiness_problems``): local source files exist, each subscribers
    file exists and every row of it is usable, the ``*_env`` keys the file sets name variables
    that are set, a DKIM key file exists. Their problems come with the file's own, in one list.

    In the result ``path`` is absolute, each edition's ``name`` is its key under ``editions``, each local
    source's ``url`` is an absolute path (relative ones are taken from the config file's folder) and each
    edition's ``base_url`` ends with "/".

    Raises:
        ConfigError: listing every problem at once, in line order, each as ``file:line: key: message``
            where ``file`` is ``str(path)``.
    """
    file = str(path)
    tree = _read_yaml(path)
    locate = _Locator(file, tree)
    if tree is None:
        raise ConfigError(
            [Problem(file, 0, "", "the file is empty; it needs at least 'editions' (see README)")]
        )
    if not isinstance(tree, dict):
        raise ConfigError([locate((), "the top level must be a mapping of keys such as editions and fetch")])
    data = _plain(tree)
    folder = path.absolute().parent
    found = _forbidden_keys(data) + _semantic_problems(data, folder)
    elsewhere: list[Problem] = []
    if ready:
        found += _readiness_problems(data, folder, elsewhere)
    config: Config | None = None
    try:
        config = Config.model_validate(_completed(data, path.absolute()))
    except ValidationError as err:
        found += _schema_problems(err)
    if found or elsewhere or config is None:
        own = sorted({locate(*where) for where in found}, key=lambda p: (p.line, p.key))
        raise ConfigError(own + elsewhere)
    return config


def format_problems(err: ConfigError) -> str:
    """The text ``digest check`` prints: one problem a line, then how many there are."""
    from digest.text import counted

    return f"{err}\n{counted(len(err.problems), 'problem')} found"


def resolve_path(config: Config, value: str) -> Path:
    """A path as written in the config (``~`` allowed) -> absolute, relative ones from the config's folder."""
    return _absolute(config.folder, value)


def _absolute(folder: Path, value: str) -> Path:
    return folder / Path(value).expanduser()


# --- Reading the file --------------------------------------------------------------------------------------


def _read_yaml(path: Path) -> Any:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(file, 0, "", "no such file (create one; see README)")]) from None
    except UnicodeDecodeError as err:
        raise ConfigError([Problem(file, 0, "", f"not UTF-8 text (byte {err.start})")]) from None
    except OSError as err:
        raise ConfigError([Problem(file, 0, "", f"cannot read it: {err.strerror}")]) from None
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as err:
        line = err.problem_mark.line + 1 if err.problem_mark is not None else 0
        message = (err.problem or str(err)).splitlines()[0]
        raise ConfigError([Problem(file, line, "", f"not valid YAML: {message}")]) from None
    except YAMLError as err:
        raise ConfigError([Problem(file, 0, "", f"not valid YAML: {str(err).splitlines()[0]}")]) from None


def _plain(node: Any) -> Any:
    """ruamel's round-trip nodes -> plain dicts, lists and scalars, keys as text, for pydantic."""
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    if isinstance(node, TaggedScalar):
        return node.value
    # ruamel's ScalarInt, ScalarFloat and string subclasses carry formatting that pydantic need not see.
    for kind in (bool, int, float, str):
        if isinstance(node, kind):
            return kind(node)
    return node


class _Locator:
    """Turns a location in the file into a Problem naming its line and dotted key."""

    def __init__(self, file: str, tree: Any) -> None:
        self.file = file
        self.tree = tree

    def __call__(self, where: Location, message: str) -> Problem:
        return Problem(self.file, self.line(where), dotted_key(where), message)

    def line(self, where: Location) -> int:
        """1-based line of the deepest key or item along ``where`` that the file has."""
        node = self.tree
        line = node.lc.line + 1 if isinstance(node, CommentedBase) and node.lc.line is not None else 1
        for part in where:
            if isinstance(node, CommentedMap):
                key = next((k for k in node if str(k) == str(part)), _MISSING)
                if key is _MISSING:
                    break
                line = node.lc.key(key)[0] + 1
                node = node[key]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                line = node.lc.item(part)[0] + 1
                node = node[part]
            else:
                break
        return line


_MISSING = object()


def dotted_key(where: Location) -> str:
    """``("editions", "morning", "sources", 0, "url")`` -> ``editions.morning.sources[0].url``."""
    key = ""
    for part in where:
        key += f"[{part}]" if isinstance(part, int) else f".{part}" if key else str(part)
    return key


# --- Schema problems (pydantic) ----------------------------------------------------------------------------


def _schema_problems(err: ValidationError) -> list[tuple[Location, str]]:
    """pydantic's errors, less those a misspelt key explains.

    A key misspelt (``sourcse``, ``ur``) is reported as unknown, with the key it resembles; the
    key it was meant to be is then missing, and the list it was in may look short. Neither of
    those is reported again: the one fix is to correct the spelling.
    """
    errors = err.errors(include_url=False)
    meant: set[Location] = set()
    for error in errors:
        if error["type"] == "extra_forbidden":
            where = tuple(error["loc"])
            close = _closest_key(where)
            if close is not None:
                meant.add((*where[:-1], close))
    inner = [tuple(error["loc"]) for error in errors]
    kept = []
    for error in errors:
        where = tuple(error["loc"])
        if error["type"] == "missing" and where in meant:
            continue
        if error["type"] == "too_short" and any(_inside(other, where) for other in inner):
            continue
        kept.append((where, _message(error)))
    return kept


def _inside(where: Location, outer: Location) -> bool:
    return len(where) > len(outer) and where[: len(outer)] == outer


def _message(error: ErrorDetails) -> str:
    """pydantic's error -> a short message for a person editing the file."""
    kind, context, given = error["type"], error.get("ctx", {}), error.get("input")
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return _unknown_key(tuple(error["loc"]))
    if given is None and kind.endswith("_type"):
        return "must not be empty"
    simple = {
        "int_type": "must be a whole number",
        "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_type": "must be a number",
        "float_parsing": "must be a number",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "string_type": "must be text",
        "dict_type": "must be a mapping of keys",
        "model_type": "must be a mapping of keys",
        "tuple_type": "must be a list",
        "list_type": "must be a list",
    }
    if kind in simple:
        return simple[kind]
    if kind == "literal_error":
        return "must be one of " + ", ".join(re.findall(r"'([^']*)'", str(context.get("expected", ""))))
    bounds = {
        "greater_than": ("gt", "must be more than"),
        "greater_than_equal": ("ge", "must be at least"),
        "less_than": ("lt", "must be less than"),
        "less_than_equal": ("le", "must be at most"),
    }
    if kind in bounds:
        name, words = bounds[kind]
        return f"{words} {_number(context[name])}"
    if kind == "too_short":
        return f"must list at least {context['min_length']}"
    if kind == "value_error":
        return str(context["error"])
    text = error["msg"]
    return text[:1].lower() + text[1:]


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _unknown_key(where: Location) -> str:
    close = _closest_key(where)
    return f"unknown key; did you mean '{close}'?" if close else "unknown key"


def _closest_key(where: Location) -> str | None:
    """The known key an unknown one at ``where`` most resembles, if any does."""
    model = _model_at(where[:-1])
    if model is None:
        return None
    reserved = RESERVED_KEYS.get(model)
    known = [f.alias or name for name, f in model.model_fields.items() if name != reserved]
    close = difflib.get_close_matches(str(where[-1]), known, n=1)
    return close[0] if close else None


def _model_at(where: Location) -> type[BaseModel] | None:
    """The schema class that validates the mapping at ``where``, or None when there is none."""
    kind: Any = Config
    for part in where:
        kind = _without_none(kind)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            field = next((f for n, f in kind.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return None
            kind = field.annotation
        elif get_origin(kind) is dict:
            kind = get_args(kind)[1]
        elif get_origin(kind) in (tuple, list):
            kind = get_args(kind)[0]
        else:
            return None
    kind = _without_none(kind)
    return kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None


def _without_none(kind: Any) -> Any:
    """``X | None`` -> ``X``."""
    if get_origin(kind) in (Union, UnionType):
        rest = [arg for arg in get_args(kind) if arg is not type(None)]
        return rest[0] if len(rest) == 1 else kind
    return kind


# --- Semantic problems -------------------------------------------------------------------------------------


def _forbidden_keys(data: Any, where: Location = ()) -> list[tuple[Location, str]]:
    """Secrets and keys load_config fills in: reported, then removed so pydantic does not flag them again."""
    found: list[tuple[Location, str]] = []
    if isinstance(data, dict):
        model = _model_at(where)
        # The keys directly under ``editions`` are names chosen by the operator, not settings.
        free_names = where == ("editions",)
        for key in list(data):
            here = (*where, key)
            if key in SECRET_KEYS and not free_names:
                found.append((here, _secret_message(key, model)))
                del data[key]
            elif model is not None and key == RESERVED_KEYS.get(model):
                found.append((here, "unknown key (load_config fills it in)"))
                del data[key]
            else:
                found += _forbidden_keys(data[key], here)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found += _forbidden_keys(item, (*where, index))
    return found


def _secret_message(key: str, model: type[BaseModel] | None) -> str:
    variable_key = f"{key}_env"
    if model is not None and variable_key in model.model_fields:
        return f"secrets go in the environment: set {variable_key} to the name of a variable"
    return "secrets go in the environment: name a variable in an *_env key instead"


def _env_names(data: Any, where: Location = ()) -> list[tuple[Location, str]]:
    """Every ``*_env`` key, wherever it is, must name an environment variable."""
    found: list[tuple[Location, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            here = (*where, key)
            if key.endswith("_env") and isinstance(value, str) and not ENV_NAME.match(value):
                found.append((here, "must be the name of an environment variable (letters, digits and _)"))
            found += _env_names(value, here)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found += _env_names(item, (*where, index))
    return found


def _semantic_problems(data: dict[str, Any], folder: Path) -> list[tuple[Location, str]]:
    """What the schema's types cannot say. Values of the wrong type are skipped: pydantic reports them."""
    found = _env_names(data)
    editions = data.get("editions")
    if isinstance(editions, dict):
        for name, edition in editions.items():
            where: Location = ("editions", name)
            if not EDITION_NAME.match(name):
                found.append(
                    (
                        where,
                        "edition names must be lower-case letters, digits, - and _ (they are folder names)",
                    )
                )
            if isinstance(edition, dict):
                found += _edition_problems(edition, where, folder)
    return found


def _edition_problems(edition: dict[str, Any], where: Location, folder: Path) -> list[tuple[Location, str]]:
    found: list[tuple[Location, str]] = []
    zone = edition.get("timezone")
    if isinstance(zone, str) and (problem := _time_zone_problem(zone)):
        found.append(((*where, "timezone"), problem))
    schedule = edition.get("schedule")
    if isinstance(schedule, str):
        try:
            cron_trigger(schedule, zone if isinstance(zone, str) and not _time_zone_problem(zone) else "UTC")
        except ValueError as err:
            found.append(((*where, "schedule"), f"not a valid cron expression: {err}"))
    lookback = edition.get("lookback")
    if isinstance(lookback, str) and lookback != "all" and not _is_duration(lookback):
        found.append(((*where, "lookback"), f"must be {DURATION_HINT}, or all"))
    catch_up = edition.get("catch_up")
    if isinstance(catch_up, str) and catch_up not in ("next", "never") and not _is_duration(catch_up):
        found.append(((*where, "catch_up"), f"must be next, never or {DURATION_HINT}"))
    most = edition.get("max_stories", EditionConfig.model_fields["max_stories"].default)
    least = edition.get("min_stories", EditionConfig.model_fields["min_stories"].default)
    if _is_whole(most) and _is_whole(least) and least > most:
        found.append(((*where, "min_stories"), f"must not be more than max_stories ({most})"))
    base_url = edition.get("base_url")
    if isinstance(base_url, str) and (
        problem := _http_url_problem(base_url) or _credentials_problem(base_url)
    ):
        found.append(((*where, "base_url"), problem))
    theme = edition.get("theme")
    if isinstance(theme, str) and not _absolute(folder, theme).is_dir():
        found.append(((*where, "theme"), f"no such folder: {_absolute(folder, theme)}"))
    sources = edition.get("sources")
    if isinstance(sources, list):
        found += _source_problems(sources, (*where, "sources"), folder)
    condense = edition.get("condense")
    if isinstance(condense, dict):
        found += _condense_problems(condense, (*where, "condense"))
    delivery = edition.get("delivery")
    if isinstance(delivery, dict):
        found += _delivery_problems(delivery, (*where, "delivery"))
    return found


def _source_problems(sources: list[Any], where: Location, folder: Path) -> list[tuple[Location, str]]:
    found: list[tuple[Location, str]] = []
    first_index: dict[str, int] = {}
    for index, source in enumerate(sources):
        url = source.get("url") if isinstance(source, dict) else None
        if not isinstance(url, str):
            continue
        here: Location = (*where, index, "url")
        scheme = URL_SCHEME.match(url)
        if scheme and scheme.group(1).lower() not in ("http", "https"):
            found.append((here, f"must be an http(s) URL or a file path, not {scheme.group(1)}://"))
            continue
        if scheme and (problem := _http_url_problem(url)):
            found.append((here, problem))
            continue
        if not url.strip():
            found.append((here, "must not be empty"))
            continue
        same = _source_location(url, folder)
        if same in first_index:
            found.append((here, f"duplicate of sources[{first_index[same]}]"))
        else:
            first_index[same] = index
    return found


def _source_location(url: str, folder: Path) -> str:
    """A source's URL as load_config returns it: http(s) URLs unchanged, paths absolute."""
    return url if URL_SCHEME.match(url) else str(_absolute(folder, url))


def _condense_problems(condense: dict[str, Any], where: Location) -> list[tuple[Location, str]]:
    found: list[tuple[Location, str]] = []
    backend = condense.get("backend")
    names = backend_names()
    if isinstance(backend, str) and backend not in names:
        found.append(((*where, "backend"), "must be one of " + ", ".join(names)))
    base_url = condense.get("base_url")
    if isinstance(base_url, str) and (problem := _http_url_problem(base_url)):
        found.append(((*where, "base_url"), problem))
    return found


def _delivery_problems(delivery: dict[str, Any], where: Location) -> list[tuple[Location, str]]:
    found: list[tuple[Location, str]] = []
    unsubscribe = delivery.get("unsubscribe")
    mailto = unsubscribe.get("mailto") if isinstance(unsubscribe, dict) else None
    for here, value, display_name in (
        ((*where, "from"), delivery.get("from"), True),
        ((*where, "reply_to"), delivery.get("reply_to"), True),
        ((*where, "unsubscribe", "mailto"), mailto, False),
    ):
        if isinstance(value, str) and (problem := _address_problem(value, display_name)):
            found.append((here, problem))
    bounces = delivery.get("bounces")
    template = bounces.get("return_path") if isinstance(bounces, dict) else None
    if isinstance(template, str):
        from digest.deliver.returnpath import return_path, template_problem

        problem = template_problem(template) or _address_problem(return_path(template, "token"), False)
        if problem:
            found.append(((*where, "bounces", "return_path"), problem))
    mailbox = bounces.get("mailbox") if isinstance(bounces, dict) else None
    if isinstance(mailbox, str) and URL_SCHEME.match(mailbox):
        parts = urlsplit(mailbox)
        if parts.scheme.lower() != "imaps" or not parts.hostname or not parts.username or parts.password:
            problem = "must be a path or imaps://USER@HOST[:PORT]/FOLDER (the password goes in password_env)"
            found.append(((*where, "bounces", "mailbox"), problem))
    return found


def _address_problem(text: str, display_name: bool) -> str | None:
    # Imported here: only editions that deliver need it, and a build need not pay for its import.
    from digest.addresses import AddressError, check_address

    try:
        check_address(text, display_name=display_name)
    except AddressError as err:
        return f"not an e-mail address: {text!r} ({err})"
    return None


# --- Readiness (digest check) -----------------------------------------------------------------------------


def _readiness_problems(
    data: dict[str, Any], folder: Path, elsewhere: list[Problem]
) -> list[tuple[Location, str]]:
    """What a build and a send will need that the file alone does not show. Like the semantic checks,
    values of the wrong type are skipped. Problems inside other files (a subscribers file's rows) go
    to ``elsewhere``, as they are.
    """
    found = _unset_variables(data)
    editions = data.get("editions")
    read: set[Path] = set()
    for name, edition in editions.items() if isinstance(editions, dict) else ():
        if not isinstance(edition, dict):
            continue
        sources = edition.get("sources")
        for index, source in enumerate(sources if isinstance(sources, list) else ()):
            url = source.get("url") if isinstance(source, dict) else None
            if isinstance(url, str) and url.strip() and not URL_SCHEME.match(url):
                path = _absolute(folder, url)
                if not path.is_file():
                    found.append((("editions", name, "sources", index, "url"), f"no such file: {path}"))
        delivery = edition.get("delivery")
        if isinstance(delivery, dict):
            found += _delivery_readiness(delivery, ("editions", name, "delivery"), folder, read, elsewhere)
    return found


def _delivery_readiness(
    delivery: dict[str, Any], where: Location, folder: Path, read: set[Path], elsewhere: list[Problem]
) -> list[tuple[Location, str]]:
    # Imported here: only `digest check` reads the subscribers file with the config.
    from digest.errors import SubscribersError
    from digest.subscribers import read_subscribers

    found: list[tuple[Location, str]] = []
    subscribers = delivery.get("subscribers")
    if isinstance(subscribers, str) and subscribers.strip():
        path = _absolute(folder, subscribers)
        if path not in read:
            read.add(path)
            try:
                elsewhere += [replace(p, file=str(path)) for p in read_subscribers(path).problems]
            except SubscribersError as err:
                found.append(((*where, "subscribers"), str(err).removeprefix(f"{path}: ")))
    dkim = delivery.get("dkim")
    key_file = dkim.get("key_file") if isinstance(dkim, dict) else None
    if isinstance(key_file, str) and not _absolute(folder, key_file).is_file():
        found.append(((*where, "dkim", "key_file"), f"no such file: {_absolute(folder, key_file)}"))
    return found


def _unset_variables(data: Any, where: Location = ()) -> list[tuple[Location, str]]:
    """Every ``*_env`` key the file sets must name a variable that is set (and not empty) now."""
    found: list[tuple[Location, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            here = (*where, key)
            named = key.endswith("_env") and isinstance(value, str) and ENV_NAME.match(value)
            if named and not os.environ.get(value):
                found.append((here, f"the environment variable {value} is not set"))
            found += _unset_variables(value, here)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found += _unset_variables(item, (*where, index))
    return found


def _time_zone_problem(name: str) -> str | None:
    try:
        ZoneInfo(name)
        return None
    except (ZoneInfoNotFoundError, ValueError):
        pass
    close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown time zone '{name}'{hint}"


def _http_url_problem(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"must be an http(s) URL such as https://example.org/, not {url!r}"
    return None


def _credentials_problem(url: str) -> str | None:
    # Every link of every issue starts with the edition's base_url: a password in it is published.
    if has_credentials(url):
        return "must not carry a user name or password (user:password@): every issue would publish it"
    return None


def _is_duration(text: str) -> bool:
    try:
        parse_duration(text)
    except ValueError:
        return False
    return True


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def backend_names() -> tuple[str, ...]:
    """The names `condense.backend` may take: digest.condense's registry, or the built-in two."""
    # Imported here, not at the top: the condensers import heavier things, and a broken condenser package
    # must not stop `digest check` from reporting the config's own problems.
    try:
        available = importlib.import_module("digest.condense").available
    except (ImportError, AttributeError):
        return FALLBACK_BACKENDS
    return tuple(available())


# --- Filling in --------------------------------------------------------------------------------------------


def _completed(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """The plain data with what load_config fills in: the file's path, edition names, absolute source
    paths and base_url's trailing "/". Values of the wrong type are left for pydantic to report."""
    editions = data.get("editions")
    if isinstance(editions, dict):
        for name, edition in editions.items():
            if not isinstance(edition, dict):
                continue
            edition["name"] = name
            base_url = edition.get("base_url")
            if isinstance(base_url, str) and not base_url.endswith("/"):
                edition["base_url"] = base_url + "/"
            sources = edition.get("sources")
            for source in sources if isinstance(sources, list) else ():
                if isinstance(source, dict) and isinstance(source.get("url"), str) and source["url"].strip():
                    source["url"] = _source_location(source["url"], path.parent)
    return {**data, "path": path}
