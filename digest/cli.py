"""The ``digest`` command: parses arguments, calls the pipeline, prints. Nothing else.

stdout carries results (issue folders, briefings); stderr carries progress and
logs. Exit status: 0 done, 2 bad usage or config, 1 any other failure.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from digest import __version__, pipeline
from digest.config import Config, EditionConfig, FetchConfig, SourceConfig, format_problems, load_config
from digest.errors import ConfigError, DigestError, UsageError
from digest.logs import CONTROL, LOG_FORMATS, REPLACEMENT, JsonFormatter, fields
from digest.progressview import ProgressView
from digest.state import State, masked, migrate, state_url
from digest.text import counted
from digest.workers import PdfRenderer, Workers

log = logging.getLogger("digest")
F = TypeVar("F", bound=Callable[..., Any])
#: Where common_options leaves --log-format in click's context meta.
LOG_FORMAT_KEY = "digest.log_format"


class StderrFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = CONTROL.sub(REPLACEMENT, record.getMessage())
        return f"digest: {record.levelname.lower()}: {message}"


def setup_logging(verbose: bool, log_format: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else StderrFormatter())
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False


@contextmanager
def reported_errors(verbose: bool) -> Iterator[None]:
    """Turn errors into one line on stderr and the contract's exit status."""
    try:
        yield
    except DigestError as err:
        if verbose:
            traceback.print_exc()
        for line in str(err).splitlines() or [type(err).__name__]:
            click.echo(f"digest: error: {line}", err=True)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        click.echo("digest: interrupted", err=True)
        sys.exit(130)
    except Exception as err:
        if verbose:
            traceback.print_exc()
        click.echo(f"digest: error: {type(err).__name__}: {err} (run with --verbose for details)", err=True)
        sys.exit(1)


def read_config(path: Path, *, ready: bool = False) -> Config:
    """The config, its condenser names checked against the condensers this Digest has."""
    return load_config(path, ready=ready, backends=condenser_names)


def condenser_names() -> tuple[str, ...]:
    # Imported when a config is read, not with this module: `digest --help` need not load the condensers.
    from digest.condense import available

    return available()


def parse_instant(value: str, option: str) -> datetime:
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{option}: {value!r} is not an ISO 8601 time such as 2026-03-14T07:00:00+00:00"
        ) from None
    if instant.tzinfo is None:
        raise UsageError(f"{option}: {value!r} needs a UTC offset, such as +00:00")
    return instant.astimezone(UTC)


def common_options(func: F) -> F:
    """--config and --verbose, which every command takes."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=Path("feeds.yaml"),
        show_default=True,
        help="The config file.",
    )
    @click.option("--verbose", is_flag=True, help="Tracebacks and debug logs.")
    @click.option(
        "--log-format",
        type=click.Choice(LOG_FORMATS),
        default="text",
        show_default=True,
        help="Log lines on stderr as text, or as one JSON object per line.",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # Taken here so that no command needs a parameter for it; a command that cares finds it in meta.
        log_format = kwargs.pop("log_format")
        click.get_current_context().meta[LOG_FORMAT_KEY] = log_format
        setup_logging(kwargs["verbose"], log_format)
        with reported_errors(kwargs["verbose"]):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


#: --out, for every command that reads or writes the output folder.
out_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Output folder [default: out/ beside the config file].",
)


def build_options(func: F) -> F:
    func = click.option("--edition", "editions", multiple=True, help="An edition to build (repeatable).")(
        func
    )
    func = out_option(func)
    func = click.option("--now", default=None, help="The clock to build against (ISO 8601 with offset).")(
        func
    )
    func = click.option(
        "--since", default=None, help='Use entries published at or after this instant, or "all".'
    )(func)
    return func


def chosen_editions(config: Config, names: tuple[str, ...]) -> list[EditionConfig]:
    unknown = [n for n in names if n not in config.editions]
    if unknown:
        raise UsageError(f"--edition: unknown edition {unknown[0]!r}; editions: {', '.join(config.editions)}")
    return [config.editions[n] for n in names] if names else list(config.editions.values())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digest")
def main() -> None:
    """Digest turns news feeds into Q&A briefings: e-mail, PDF and an archive."""


@main.command()
@common_options
@build_options
def build(
    config_path: Path,
    verbose: bool,
    editions: tuple[str, ...],
    out_dir: Path | None,
    now: str | None,
    since: str | None,
) -> None:
    """Build one issue of each edition and print each new issue folder."""
    config = read_config(config_path)
    clock = parse_instant(now, "--now") if now else datetime.now(UTC)
    window: datetime | str | None = (
        "all" if since == "all" else parse_instant(since, "--since") if since else None
    )
    out = out_dir or config.folder / "out"
    failed = 0
    with State.of(config) as state, Workers() as workers, PdfRenderer() as renderer:
        for edition in chosen_editions(config, editions):
            try:
                with shown_progress() as progress:
                    result = pipeline.build_edition(
                        config,
                        edition,
                        state,
                        out_dir=out,
                        now=clock,
                        since=window,
                        progress=progress,
                        map=workers.map,
                        renderer=renderer,
                    )
            except DigestError as err:
                if verbose:
                    traceback.print_exc()
                log.error("%s", err)
                failed += 1
                continue
            if result.path is None:
                log.info("edition %s: %s; no issue built", edition.name, result.reason)
            else:
                click.echo(str(result.path))
    if failed:
        sys.exit(1)


@contextmanager
def shown_progress() -> Iterator[ProgressView]:
    """The command's ProgressView: JSON lines with --log-format json, else a terminal's view, else none."""
    if click.get_current_context().meta.get(LOG_FORMAT_KEY) == "json":
        view = ProgressView("json")
    else:
        view = ProgressView("terminal" if sys.stderr.isatty() else "quiet")
    try:
        yield view
    finally:
        view.close()


@main.command()
@common_options
def check(config_path: Path, verbose: bool) -> None:
    """Check the config and what a build and a send need; say what is wrong with file, line and key."""
    try:
        config = read_config(config_path, ready=True)
    except ConfigError as err:
        # One problem a line, each starting file:line: as compilers print them, so editors can jump.
        click.echo(format_problems(err), err=True)
        sys.exit(err.exit_code)
    editions = len(config.editions)
    sources = sum(len(e.sources) for e in config.editions.values())
    click.echo(f"{config_path}: ok ({counted(editions, 'edition')}, {counted(sources, 'source')})")


@main.command()
@common_options
@click.argument("issue_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
def render(config_path: Path, verbose: bool, issue_dir: Path) -> None:
    """Render every output of an issue again from its issue.json."""
    if not (issue_dir / "issue.json").is_file():
        raise UsageError(f"{issue_dir}: not an issue folder (it has no issue.json)")
    recorded = recorded_issue(issue_dir)
    explicit = click.get_current_context().get_parameter_source("config_path") not in (
        click.core.ParameterSource.DEFAULT,
        None,
    )
    config_path = config_path if explicit else issue_config(issue_dir, recorded.get("config"), config_path)
    config = read_config(config_path)
    edition_name = recorded.get("edition")
    if not isinstance(edition_name, str) or not edition_name:
        edition_name = issue_dir.resolve().parent.name
    if edition_name not in config.editions:
        raise UsageError(f"{issue_dir}: its edition {edition_name!r} is not in {config_path}")
    with PdfRenderer() as renderer:
        pipeline.render_again(config, config.editions[edition_name], issue_dir, renderer)
    click.echo(str(issue_dir))


def recorded_issue(issue_dir: Path) -> dict[str, Any]:
    """issue.json's object, read loosely (the full check comes with the render); {} when unreadable."""
    try:
        data = json.loads((issue_dir / "issue.json").read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def issue_config(issue_dir: Path, recorded: object, default: Path) -> Path:
    """The config an issue was built with: the one issue.json names, else the feeds.yaml beside
    its out folder (out/<edition>/<issue>), else ``default`` (feeds.yaml here)."""
    candidates = []
    if isinstance(recorded, str) and recorded:
        candidates.append(issue_dir / recorded)
    candidates.append(
        issue_dir.resolve().parents[2] / "feeds.yaml" if len(issue_dir.resolve().parents) > 2 else default
    )
    candidates.append(default)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(dict.fromkeys(str(c) for c in candidates))
    raise UsageError(
        f"{issue_dir}: cannot find the config it was built with (looked at {looked}); name it with --config"
    )


@main.command("init")
@click.argument("folder", type=click.Path(path_type=Path))
def init_command(folder: Path) -> None:
    """Write a ready folder: a commented feeds.yaml, the demo feeds and a subscribers example."""
    from digest.resources import init_folder

    setup_logging(False)
    with reported_errors(False):
        written = init_folder(folder)
        click.echo(
            f"{folder}: wrote {counted(len(written), 'file')} (feeds.yaml, demo/, subscribers.csv.example)",
            err=True,
        )
        click.echo(f"next: cd {folder} && digest build", err=True)
        click.echo(str(folder))


@main.command("condense")
@common_options
@click.argument("targets", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One story object of issue.json per line.")
@click.option("--title", default=None, help="A headline where the input has none.")
@click.option("--edition", "edition_name", default=None, help="Use this edition's condenser and time zone.")
@click.option("--now", default=None, help="The clock (ISO 8601 with offset).")
def condense_command(
    config_path: Path,
    verbose: bool,
    targets: tuple[str, ...],
    as_json: bool,
    title: str | None,
    edition_name: str | None,
    now: str | None,
) -> None:
    """Condense articles (text, HTML or feed files, or URLs) into briefings."""
    fetch_settings, edition = condense_settings(config_path, edition_name)
    clock = parse_instant(now, "--now") if now else datetime.now(UTC)
    with Workers() as workers:
        briefings, briefly = pipeline.condense_inputs(
            targets, fetch_settings, edition, clock, title, map=workers.map
        )
    # Imported here, not at the top: `digest build` with nothing new must not pay for them (issue 8).
    from digest.issuejson import briefing_to_dict
    from digest.render import render_briefings_text
    from digest.render.templates import environment

    for item in briefly:
        log.warning(
            "%s: too short for a briefing; in a digest it would go to Briefly", item.headline or item.url
        )
    if as_json:
        for briefing in briefings:
            click.echo(json.dumps(briefing_to_dict(briefing), ensure_ascii=False))
    else:
        click.echo(render_briefings_text(briefings, environment(None)), nl=False)
    if not briefings:
        sys.exit(1)


def condense_settings(config_path: Path, edition_name: str | None) -> tuple[FetchConfig, EditionConfig]:
    """The config's settings when there is a config (or one was named); defaults otherwise."""
    if config_path.exists() or config_path != Path("feeds.yaml") or edition_name:
        config = read_config(config_path)
        editions = chosen_editions(config, (edition_name,) if edition_name else ())
        return config.fetch, editions[0]
    return FetchConfig(), EditionConfig(title="Digest", sources=(SourceConfig(url="-"),))


@main.command("run")
@common_options
@out_option
@click.option(
    "--stop-timeout",
    type=click.FloatRange(min=0),
    default=20.0,
    show_default=True,
    help="Seconds runs in progress may take to finish after SIGINT or SIGTERM.",
)
def run_command(config_path: Path, verbose: bool, out_dir: Path | None, stop_timeout: float) -> None:
    """The scheduler, in the foreground: build (and send) each edition on its schedule."""
    # Imported here: only the scheduler's commands need APScheduler and the signal plumbing.
    import os
    import signal
    import threading
    from types import FrameType

    from digest import scheduler, status

    config = read_config(config_path)
    stop = threading.Event()
    received: list[str] = []

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            # A second signal: the operator will not wait for runs in progress.
            os._exit(1)
        received.append(signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, request_stop)
    scheduler.adopt_library_logs(log.handlers, verbose)
    runner = scheduler.EditionScheduler(config, out_dir or config.folder / "out")
    planned = runner.start()
    if click.get_current_context().meta.get(LOG_FORMAT_KEY) == "json":
        for plan in planned:
            log.info("%s", status.describe_plan(plan), extra=fields("planned", plan.edition))
    else:
        click.echo(status.format_plan(planned), err=True)
    # A bounded wait in a loop, so the signal handler's stop is seen even if a wait is not interrupted.
    while not stop.wait(1.0):
        pass
    log.info("%s received: stopping", received[0] if received else "signal", extra=fields("stopping"))
    if not runner.stop(stop_timeout):
        # Threads still building would hold the process open at exit: leave them, loudly (logged above).
        sys.stderr.flush()
        os._exit(1)


@main.command("status")
@common_options
@click.option("--edition", "editions", multiple=True, help="An edition to report on (repeatable).")
def status_command(config_path: Path, verbose: bool, editions: tuple[str, ...]) -> None:
    """Per edition: the last build and send, the next run, the failing sources."""
    from digest import status

    config = read_config(config_path)
    now = datetime.now(UTC)
    with State.of(config) as state:
        statuses = status.edition_statuses(chosen_editions(config, editions), state, now)
    click.echo(status.format_status(statuses, now))


@main.command("migrate")
@common_options
def migrate_command(config_path: Path, verbose: bool) -> None:
    """Bring the state store's schema up to this version of Digest."""
    config = read_config(config_path)
    url = state_url(config)
    done = migrate(url)
    if done.changed:
        before = f"revision {done.before}" if done.before else "no recorded revision"
        click.echo(f"{masked(url)}: schema upgraded from {before} to {done.after}")
    else:
        click.echo(f"{masked(url)}: schema at {done.after}, up to date")


# --- delivery: send, serve, unsubscribe ---------------------------------------------------------------------


@main.command()
@common_options
@click.option(
    "--issue",
    "issue_dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=None,
    help="The issue folder to send [default: each edition's most recent issue].",
)
@click.option("--edition", "editions", multiple=True, help="An edition to send (repeatable).")
@out_option
@click.option("--dry-run", is_flag=True, help="Write the messages to the issue's outbox/; record nothing.")
@click.option(
    "--sample",
    metavar="N|all",
    callback=lambda ctx, param, value: sample_size(value, param),
    help="With --dry-run: messages to write, a number or 'all' [default: all up to 50, else a sample of 50].",
)
def send(
    config_path: Path,
    verbose: bool,
    issue_dir: Path | None,
    editions: tuple[str, ...],
    out_dir: Path | None,
    dry_run: bool,
    sample: int | None,
) -> None:
    """Send an issue to every active subscriber, exactly once."""
    from digest.deliver.files import OutboxDeliverer

    given = click.get_current_context().get_parameter_source("sample") != ParameterSource.DEFAULT
    if given and not dry_run:
        raise UsageError("--sample is for --dry-run only: a send mails every subscriber")
    config = read_config(config_path)
    out = out_dir or config.folder / "out"
    still_pending = False
    with State.of(config) as state:
        for edition, folder in send_targets(config, state, issue_dir, editions, out):
            outbox = OutboxDeliverer.for_issue(folder, sample=sample) if dry_run else None
            with shown_progress() as progress:
                report = pipeline.send_issue(
                    config, edition, state, folder, dry_run=dry_run, deliverer=outbox, progress=progress
                )
            click.echo(report.summary())
            error = report.pending_error()
            if error:
                log.error("%s", error)
                still_pending = True
    if still_pending:
        sys.exit(1)


def sample_size(value: str | None, param: click.Parameter) -> int | None:
    """``--sample``: the messages a dry run writes at most; None for ``all``."""
    from digest.deliver.files import DEFAULT_SAMPLE

    if value is None:
        return DEFAULT_SAMPLE
    if value.strip().lower() == "all":
        return None
    with contextlib.suppress(ValueError):
        if int(value) >= 1:
            return int(value)
    raise click.BadParameter(f"{value!r} is neither a count of messages (1 or more) nor 'all'", param=param)


def send_targets(
    config: Config, state: State, issue_dir: Path | None, names: tuple[str, ...], out: Path
) -> list[tuple[EditionConfig, Path]]:
    """(edition, issue folder) pairs to send: the folder given, else each chosen edition's latest issue."""
    if issue_dir is not None:
        edition_name = issue_dir.resolve().parent.name
        if edition_name not in config.editions:
            raise UsageError(f"--issue {issue_dir}: its edition {edition_name!r} is not in {config.path}")
        if names and edition_name not in names:
            raise UsageError(f"--issue {issue_dir} is of edition {edition_name}, not --edition {names[0]}")
        return [(config.editions[edition_name], issue_dir)]
    chosen = [e for e in chosen_editions(config, names) if names or e.delivery is not None]
    if not chosen:
        raise UsageError(f"{config.path}: no edition has delivery settings; nothing to send")
    return [(edition, pipeline.latest_issue_dir(edition, state, out)) for edition in chosen]


@main.command()
@common_options
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="The port.")
@out_option
@click.option(
    "--threads", default=8, show_default=True, type=click.IntRange(1, 256), help="Requests answered at once."
)
@click.option(
    "--connection-limit",
    default=1000,
    show_default=True,
    type=click.IntRange(1),
    help="Open connections at most.",
)
@click.option(
    "--timeout", default=30, show_default=True, type=click.IntRange(1), help="Seconds a connection may idle."
)
@click.option(
    "--trusted-proxy", metavar="ADDRESS", help="The reverse proxy whose X-Forwarded-* headers count."
)
@click.option(
    "--trusted-proxy-headers",
    default="x-forwarded-for,x-forwarded-host,x-forwarded-proto,x-forwarded-port",
    show_default=True,
    help="The forwarded headers believed from the trusted proxy, comma-separated.",
)
def serve(
    config_path: Path,
    verbose: bool,
    host: str,
    port: int,
    out_dir: Path | None,
    threads: int,
    connection_limit: int,
    timeout: int,
    trusted_proxy: str | None,
    trusted_proxy_headers: str,
) -> None:
    """Serve the one-click unsubscribe endpoint and the archive over HTTP."""
    import signal

    from digest.serve import ServerSettings, Site, make_server

    settings = ServerSettings(
        threads=threads,
        connection_limit=connection_limit,
        timeout=timeout,
        trusted_proxy=trusted_proxy,
        trusted_proxy_headers=tuple(h.strip().lower() for h in trusted_proxy_headers.split(",") if h.strip()),
    )
    config = read_config(config_path)
    with State.of(config) as state:
        site = Site(config, state, out_dir or config.folder / "out")
        try:
            server = make_server(site, host, port, settings)
        except OSError as err:
            raise UsageError(f"--host {host} --port {port}: cannot listen ({err.strerror or err})") from err
        except ValueError as err:  # waitress refuses a setting it cannot use
            raise UsageError(f"digest serve: {err}") from err
        # SIGTERM (a service manager stopping it) ends the server as Ctrl-C does.
        signal.signal(signal.SIGTERM, lambda signum, frame: server.stop())
        log.info("serving on http://%s:%d/ (Ctrl-C stops)", host, server.port)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
        log.info("stopped")


@main.command("unsubscribe")
@common_options
@click.argument("email")
@click.option("--edition", "editions", multiple=True, help="An edition to unsubscribe from (repeatable).")
def unsubscribe_command(config_path: Path, verbose: bool, email: str, editions: tuple[str, ...]) -> None:
    """Put EMAIL on the suppression list of each edition (or of those named)."""
    from digest.addresses import AddressError, check_address
    from digest.unsubscribe import unsubscribe

    config = read_config(config_path)
    try:
        address = check_address(email)
    except AddressError as err:
        raise UsageError(f"EMAIL: {email!r} is not an e-mail address ({err})") from None
    with State.of(config) as state:
        for edition in chosen_editions(config, editions):
            added = unsubscribe(state, edition.name, address, "command")
            done = "unsubscribed from" if added else "already unsubscribed from"
            click.echo(f"{address}: {done} {edition.name}")


@main.command("bounces")
@common_options
@click.argument("location", metavar="[PATH]", required=False)
@click.option(
    "--edition",
    "editions",
    multiple=True,
    help="Read the mailbox of this edition (repeatable) [default: every edition's]; not with PATH.",
)
def bounces_command(
    config_path: Path, verbose: bool, location: str | None, editions: tuple[str, ...]
) -> None:
    """Read bounces and complaints from PATH (a Maildir, mbox, folder of .eml files or imaps:// URL)."""
    from digest.deliver.bounces import BounceRun, mailboxes, read_bounces
    from digest.deliver.mailboxes import read_mailbox

    config = load_config(config_path)
    if location is not None and editions:
        raise UsageError("--edition chooses the configured mailboxes to read; give it or PATH, not both")
    sources = mailboxes(config, chosen_editions(config, editions), location)
    if not sources:
        raise UsageError(f"{config.path}: no delivery.bounces.mailbox is set; give the mailbox as PATH")
    run = BounceRun()
    with State(state_url(config)) as state:
        for where, password_env in sources:
            mails = read_mailbox(where, password_env=password_env, read_before=state.bounces.read_reports)
            read_bounces(config, state, mails, run)
    for edition, address, how in run.suppressed:
        click.echo(f"{address}: suppressed from {edition} ({how})")
    for edition, kinds in sorted(run.events.items()):
        click.echo(
            f"{edition}: {counted(kinds['hard'], 'hard bounce')}, {counted(kinds['soft'], 'soft bounce')}, "
            f"{counted(kinds['complaint'], 'complaint')}"
        )
    click.echo(
        f"{counted(run.messages, 'message')} read: {counted(run.reports, 'new report')} "
        f"({run.unmatched} naming no subscriber), {run.read_before} read before, "
        f"{len(run.not_reports)} not a report, {len(run.malformed)} malformed"
    )


def run() -> None:
    """The ``digest`` program."""
    main()
