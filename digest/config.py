"""feeds.yaml -> Config.

The schema below is the whole config: every key, its type and default, as
CONTRACT.md fixes them. ``load_config`` reads the YAML with line numbers,
validates it all at once and raises one ConfigError listing every problem as
``file:line: key: message`` (unknown keys come with a did-you-mean). Secrets
never appear in the file: keys ending in ``_env`` name environment variables.

The fields carry parsed values, so the rest of Digest never parses config text:
durations are ``timedelta``, time zones ``ZoneInfo``, schedules ``CronSchedule``,
addresses checked, source paths absolute, ``base_url`` ending in "/" (the value
types are in digest/configvalues.py).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedBase, CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from digest.configvalues import (
    Address,
    CatchUp,
    Checking,
    EnvName,
    HttpUrl,
    Lookback,
    Mailbox,
    ReturnPathTemplate,
    Schedule,
    TimeZone,
    absolute,
    checking_of,
    existing_file,
    http_url,
    located_error,
    raised_again,
    site_url,
)
from digest.errors import ConfigError, Problem
from digest.schedule import DAILY_AT_SEVEN

EDITION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


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

    @field_validator("url")
    @classmethod
    def _located(cls, url: str, info: ValidationInfo) -> str:
        scheme = URL_SCHEME.match(url)
        if scheme and scheme.group(1).lower() not in ("http", "https"):
            raise ValueError(f"must be an http(s) URL or a file path, not {scheme.group(1)}://")
        if scheme:
            return http_url(url)
        if not url.strip():
            raise ValueError("must not be empty")
        checking = checking_of(info)
        if checking is None:
            return url
        path = absolute(checking.folder, url)
        if checking.ready and not path.is_file():
            raise ValueError(f"no such file: {path}")
        return str(path)


def _feed_location(url: object, checking: Checking | None) -> str | None:
    """Where a source's feed is, to compare sources by; None when the URL is not one (reported apart)."""
    if not isinstance(url, str) or not url.strip():
        return None
    if URL_SCHEME.match(url):
        try:
            return http_url(url)
        except ValueError:
            return None
    return url if checking is None else str(absolute(checking.folder, url))


def _distinct_sources(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    """The sources, each once: a second entry for the same feed is reported at its own ``url``."""
    errors: list[InitErrorDetails] = []
    try:
        sources = handler(value)
    except ValidationError as err:
        errors = [raised_again(error) for error in err.errors()]
        sources = None
    checking = checking_of(info)
    first: dict[str, int] = {}
    for index, item in enumerate(value if isinstance(value, list | tuple) else ()):
        url = item.get("url") if isinstance(item, dict) else getattr(item, "url", None)
        same = _feed_location(url, checking)
        if same is None:
            continue
        if same in first:
            errors.append(located_error((index, "url"), f"duplicate of sources[{first[same]}]", url))
        else:
            first[same] = index
    if errors:
        raise ValidationError.from_exception_data("sources", errors)
    return sources


class CondenseConfig(Model):
    backend: str = "extractive"
    base_url: HttpUrl = "http://localhost:11434/v1"
    model: str | None = None
    api_key_env: EnvName = "OPENAI_API_KEY"
    timeout: float = Field(default=60, gt=0)
    #: The longest answer asked of the model; a small model on a CPU needs a smaller budget to finish.
    max_tokens: int = Field(default=2048, gt=0)

    @field_validator("backend")
    @classmethod
    def _known(cls, backend: str, info: ValidationInfo) -> str:
        # The condensers' registry is asked through the context (load_config's ``backends``), so
        # this module needs no import of digest.condense, which imports it.
        checking = checking_of(info)
        known = checking.backends() if checking is not None and checking.backends is not None else None
        if known is not None and backend not in known:
            raise ValueError("must be one of " + ", ".join(sorted(known)))
        return backend


class UnsubscribeConfig(Model):
    secret_env: EnvName = "DIGEST_SECRET"
    mailto: Address | None = None


class SmtpConfig(Model):
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username_env: EnvName | None = None
    password_env: EnvName | None = None
    connections: int = Field(default=1, ge=1)
    rate: float | None = Field(default=None, gt=0)


class DkimConfig(Model):
    domain: str
    selector: str
    key_file: Annotated[str, AfterValidator(existing_file)] | None = None
    key_env: EnvName | None = None


class BouncesConfig(Model):
    #: The envelope sender, e.g. ``bounces+{token}@example.org``; None: the ``from`` address, as before.
    return_path: ReturnPathTemplate | None = None
    #: Hard bounces (5.x.x) of an address before it is suppressed.
    hard_limit: int = Field(default=1, ge=1)
    #: Soft bounces (4.x.x, delays) before it is suppressed; None: counted, never suppressed.
    soft_limit: int | None = Field(default=None, ge=1)
    #: Where ``digest bounces`` reads without a PATH: a Maildir, mbox, folder of .eml files, or imaps:// URL.
    mailbox: str | None = None
    #: The IMAP password's environment variable, for an imaps:// mailbox.
    password_env: EnvName | None = None

    @field_validator("mailbox")
    @classmethod
    def _path_or_imaps(cls, mailbox: str) -> str:
        if URL_SCHEME.match(mailbox):
            parts = urlsplit(mailbox)
            if parts.scheme.lower() != "imaps" or not parts.hostname or not parts.username or parts.password:
                raise ValueError(
                    "must be a path or imaps://USER@HOST[:PORT]/FOLDER (the password goes in password_env)"
                )
        return mailbox


class DeliveryConfig(Model):
    from_: Mailbox = Field(alias="from")
    reply_to: Mailbox | None = None
    subscribers: str
    attach_pdf: bool = False
    unsubscribe: UnsubscribeConfig = UnsubscribeConfig()
    smtp: SmtpConfig = SmtpConfig()
    dkim: DkimConfig | None = None
    #: A message whose send was interrupted after its data went out: sent again (at least once,
    #: the same Message-ID) or not (at most once).
    unknown_outcome: Literal["resend", "skip"] = "resend"
    #: Seconds a send's lease holds without a heartbeat: how long a crashed send blocks the next.
    lease_timeout: float = Field(default=60, gt=0)
    bounces: BouncesConfig = BouncesConfig()

    @field_validator("subscribers")
    @classmethod
    def _readable(cls, subscribers: str, info: ValidationInfo) -> str:
        checking = checking_of(info)
        if checking is None or not checking.ready or not subscribers.strip():
            return subscribers
        # Imported here: only `digest check` reads the subscribers file with the config.
        from digest.errors import SubscribersError
        from digest.subscribers import read_subscribers

        path = absolute(checking.folder, subscribers)
        if path not in checking.read:
            checking.read.add(path)
            try:
                rows = read_subscribers(path)
            except SubscribersError as err:
                raise ValueError(str(err).removeprefix(f"{path}: ")) from None
            checking.elsewhere.extend(replace(p, file=str(path)) for p in rows.problems)
        return subscribers


class EditionConfig(Model):
    #: The key under ``editions``; filled in by load_config.
    name: str = ""
    title: str
    #: Standard five-field cron; 0 and 7 are Sunday.
    schedule: Schedule = DAILY_AT_SEVEN
    timezone: TimeZone = ZoneInfo("UTC")
    #: A first issue's window ("24h", "7d"); None: "all".
    lookback: Lookback = timedelta(hours=24)
    max_stories: int = Field(default=12, ge=1)
    #: "Briefly" lines per issue; further short stories wait for the next issue, as left-over
    #: stories do. A feed of thousands of one-line items would otherwise put them all in one issue.
    max_briefly: int = Field(default=30, ge=0)
    min_stories: int = Field(default=1, ge=0)
    #: "next", a duration, or "never".
    catch_up: CatchUp = "next"
    base_url: Annotated[str, AfterValidator(site_url)] = "http://localhost:8080/"
    theme: str | None = None
    images: bool = False
    sources: Annotated[tuple[SourceConfig, ...], Field(min_length=1), WrapValidator(_distinct_sources)]
    condense: CondenseConfig = CondenseConfig()
    delivery: DeliveryConfig | None = None

    @field_validator("min_stories")
    @classmethod
    def _at_most_max(cls, least: int, info: ValidationInfo) -> int:
        most = info.data.get("max_stories")
        if most is not None and least > most:
            raise ValueError(f"must not be more than max_stories ({most})")
        return least

    @field_validator("theme")
    @classmethod
    def _a_folder(cls, theme: str | None, info: ValidationInfo) -> str | None:
        checking = checking_of(info)
        if theme is not None and checking is not None and not absolute(checking.folder, theme).is_dir():
            raise ValueError(f"no such folder: {absolute(checking.folder, theme)}")
        return theme


def _named_editions(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Each edition learns its name (its key), which must be usable as a folder name."""
    if not isinstance(value, dict):
        return handler(value)
    if not value:
        raise ValueError("at least one edition is required")
    errors: list[InitErrorDetails] = [
        located_error(
            (name,), "edition names must be lower-case letters, digits, - and _ (they are folder names)", name
        )
        for name in value
        if not EDITION_NAME.match(str(name))
    ]
    named = {
        name: {**edition, "name": name} if isinstance(edition, dict) else edition
        for name, edition in value.items()
    }
    try:
        editions = handler(named)
    except ValidationError as err:
        errors += [raised_again(error) for error in err.errors()]
    if errors:
        raise ValidationError.from_exception_data("editions", errors)
    return editions


class Config(Model):
    #: The config file itself (absolute); relative paths in it are relative to its folder.
    path: Path = Path("feeds.yaml")
    state_dir: str = ".digest"
    database_url: str | None = None
    state: StateConfig = StateConfig()
    fetch: FetchConfig = FetchConfig()
    editions: Annotated[dict[str, EditionConfig], WrapValidator(_named_editions)]

    @property
    def folder(self) -> Path:
        return self.path.parent


# --- Loading -----------------------------------------------------------------------------------------------
#
# The method: ruamel.yaml's round-trip loader reads the file into maps and sequences that remember the line
# of every key and item. That tree is copied into plain dicts, lists and scalars, and pydantic validates the
# copy once against the models above, whose field types parse and check each value (cron, time zone,
# durations, URLs, addresses; with ``ready``, the files and variables named). Keys that hold secrets are
# taken out first, with their own message. Every problem is named by its location, a tuple such as
# ("editions", "morning", "sources", 0, "url"); one function turns a location into the dotted key and the
# line of the deepest key or item along it that the file has. Nothing is returned until every problem of
# the file is known.

#: Where a problem is: keys of mappings and indexes of lists, from the top of the file.
Location = tuple[str | int, ...]

#: Keys that would hold a secret; the file names an environment variable instead (``password_env``).
SECRET_KEYS = frozenset({"password", "api_key", "secret", "username", "token"})
#: Keys load_config fills in itself; the file may not set them.
RESERVED_KEYS: dict[type[BaseModel], str] = {Config: "path", EditionConfig: "name"}


def load_config(
    path: Path, *, ready: bool = False, backends: Callable[[], Collection[str]] | None = None
) -> Config:
    """Read feeds.yaml, validate everything, and return the Config.

    With ``ready`` (``digest check``), it also checks what a build and a send will need beyond
    the file itself: local source files exist, each subscribers file exists and every row of it
    is usable, the ``*_env`` keys the file sets name variables that are set, a DKIM key file
    exists. Their problems come with the file's own, in one list.

    ``backends`` gives the names ``condense.backend`` may take (digest.condense's ``available``);
    without it the name is checked when the condenser is made.

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
    checking = Checking(folder=path.absolute().parent, backends=backends, ready=ready)
    found = _forbidden_keys(data)
    config: Config | None = None
    try:
        config = Config.model_validate({**data, "path": path.absolute()}, context={"checking": checking})
    except ValidationError as err:
        found += _schema_problems(err)
    if found or checking.elsewhere or config is None:
        own = sorted({locate(*where) for where in found}, key=lambda p: (p.line, p.key))
        raise ConfigError(own + checking.elsewhere)
    return config


def format_problems(err: ConfigError) -> str:
    """The text ``digest check`` prints: one problem a line, then how many there are."""
    from digest.text import counted

    return f"{err}\n{counted(len(err.problems), 'problem')} found"


def resolve_path(config: Config, value: str) -> Path:
    """A path as written in the config (``~`` allowed) -> absolute, relative ones from the config's folder."""
    return absolute(config.folder, value)


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
