"""Every error Digest raises on purpose.

::

    DigestError                   root; ``str(err)`` is one line naming the resource at fault
    ├── ConfigError               feeds.yaml is missing or wrong (all problems at once)  -> exit 2
    ├── UsageError                bad command-line arguments                             -> exit 2
    ├── SourceError               one source could not be used (item failure: the run goes on)
    │   ├── FetchError            network, HTTP status, timeout, size cap
    │   └── ParseError            the body is not a feed
    ├── EveryFeedFailed           no source of an edition could be read
    ├── InputError                a file or URL given to ``digest condense`` cannot be read
    ├── CondenseError             a condenser backend failed on one story
    ├── RenderError               a template or the PDF renderer failed (run failure)
    ├── OutputError               the issue could not be written under out/
    ├── StateError                the state store is unusable
    ├── SubscribersError          the subscribers file cannot be used at all
    ├── DeliveryError             delivery cannot go on (server down, login refused, setting missing)
    ├── WorkerError               a worker process died during a build (run failure)
    └── MailboxError              a mailbox of bounces cannot be read (missing, login refused)

Item failures (a source, a story) are collected in the run report and the run
goes on; run failures (config, templates) stop before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass


class DigestError(Exception):
    """Root of Digest's errors. The message is one line, fit for stderr."""

    #: The process exit status this error ends ``digest`` with.
    exit_code: int = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a config file."""

    file: str
    #: 1-based; 0 when the problem has no line (a missing file).
    line: int
    #: The dotted key path, e.g. ``editions.morning.schedule``.
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(DigestError):
    """The config has one or more problems; all of them are listed."""

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(DigestError):
    exit_code = 2


class SourceError(DigestError):
    """One source failed; ``url`` names it."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class FetchError(SourceError):
    pass


class ParseError(SourceError):
    pass


class InputError(DigestError):
    """An input of ``digest condense`` could not be read."""


class CondenseError(DigestError):
    pass


class RenderError(DigestError):
    pass


class OutputError(DigestError):
    pass


class StateError(DigestError):
    pass


class EveryFeedFailed(DigestError):
    """No source of an edition could be read: there is nothing to build from."""


class SubscribersError(DigestError):
    """The subscribers file cannot be used at all (missing, unreadable, no email column)."""


class DeliveryError(DigestError):
    """Delivery cannot go on: the server stayed down, refused the login, or a setting is missing."""


class BuildStopped(DigestError):
    """A build gave up because it was asked to stop (its stop event was set) before it wrote anything."""


class WorkerError(DigestError):
    """A worker process died (killed, out of memory) and its share of a build's work with it."""


class MailboxError(DigestError):
    """A mailbox ``digest bounces`` was given cannot be read at all; ``str(err)`` names it."""
