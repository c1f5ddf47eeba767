"""The state store, on a real SQLite file and a real PostgreSQL database (the ``store_url`` fixture)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from digest.config import Config
from digest.errors import StateError
from digest.state import BuildRecord, IssueRecord, State, masked, state_url
from digest.types import FeedResult, Source

NOW = datetime(2026, 3, 14, 7, 0, tzinfo=UTC)
BERLIN_WINTER = timezone(timedelta(hours=1))


@pytest.fixture
def state(store_url: str) -> Iterator[State]:
    with State(store_url) as store:
        yield store


def result(url: str, status: str, etag: str | None = None, modified: str | None = None) -> FeedResult:
    return FeedResult(Source(url), url, status, etag=etag, last_modified=modified)  # type: ignore[arg-type]


def record(issue_id: str, built_at: datetime, stories: int = 3) -> IssueRecord:
    return IssueRecord(
        edition="morning",
        issue_id=issue_id,
        built_at=built_at,
        resume_from=built_at - timedelta(hours=2),
        path=f"/out/morning/{issue_id}",
        stories=stories,
    )


def test_validators_round_trip_and_survive_reopening(store_url: str) -> None:
    url = store_url
    with State(url) as state:
        assert state.fetch.validators(["https://a/feed"]) == {}
        state.fetch.save_validators(
            [
                result("https://a/feed", "ok", '"v1"', "Sat, 14 Mar 2026 06:00:00 GMT"),
                result("https://b/feed", "ok", None, None),
                result("https://c/feed", "failed", '"ignored"'),
            ]
        )
    with State(url) as state:
        assert state.fetch.validators(["https://a/feed", "https://b/feed", "https://c/feed"]) == {
            "https://a/feed": ('"v1"', "Sat, 14 Mar 2026 06:00:00 GMT"),
            "https://b/feed": (None, None),
        }


def test_ok_replaces_validators_not_modified_and_failed_leave_them(state: State) -> None:
    state.fetch.save_validators(
        [result("https://a/feed", "ok", '"v1"'), result("https://b/feed", "ok", '"b1"')]
    )
    state.fetch.save_validators(
        [
            result("https://a/feed", "ok", '"v2"'),
            result("https://b/feed", "not-modified", None, None),
            result("https://b/feed", "failed"),
        ]
    )
    assert state.fetch.validators(["https://a/feed", "https://b/feed"]) == {
        "https://a/feed": ('"v2"', None),
        "https://b/feed": ('"b1"', None),
    }


def test_first_seen_is_recorded_once_and_returned_as_aware_utc(state: State) -> None:
    first = state.entries.first_seen(["e1", "e2", "e1"], NOW.astimezone(BERLIN_WINTER))
    assert first == {"e1": NOW, "e2": NOW}
    assert all(moment.tzinfo == UTC for moment in first.values())
    later = NOW + timedelta(days=1)
    again = state.entries.first_seen(["e2", "e3"], later)
    assert again == {"e2": NOW, "e3": later}


def test_first_seen_handles_more_ids_than_one_query_batch(state: State) -> None:
    ids = [f"id{n}" for n in range(1234)]
    assert len(state.entries.first_seen(ids, NOW)) == 1234
    assert set(state.entries.first_seen(ids, NOW + timedelta(hours=1)).values()) == {NOW}


def test_record_issue_then_used_entries_issue_ids_and_last_issue(state: State) -> None:
    assert state.issues.last_issue("morning") is None
    state.record_issue(record("2026-03-13", NOW - timedelta(days=1)), ["a", "b", "a"])
    state.record_issue(record("2026-03-14", NOW.astimezone(BERLIN_WINTER), stories=5), ["c"])
    state.record_issue(
        IssueRecord("evening", "2026-03-14", NOW + timedelta(hours=9), NOW, "/out/evening/x", 1), ["z"]
    )
    assert state.entries.used_entries("morning") == {"a", "b", "c"}
    assert state.entries.used_entries("evening") == {"z"}
    assert state.issues.issue_ids("morning") == {"2026-03-13", "2026-03-14"}
    last = state.issues.last_issue("morning")
    assert last == record("2026-03-14", NOW, stories=5)
    assert last is not None and last.built_at.tzinfo == UTC


def test_last_issue_is_by_built_at_not_by_insertion_or_id(state: State) -> None:
    state.record_issue(record("2026-03-14-2", NOW), [])
    state.record_issue(record("2026-03-14", NOW - timedelta(microseconds=1)), [])
    last = state.issues.last_issue("morning")
    assert last is not None and last.issue_id == "2026-03-14-2"


def test_an_entry_used_twice_fails_and_records_nothing(state: State) -> None:
    state.record_issue(record("2026-03-13", NOW - timedelta(days=1)), ["a"])
    with pytest.raises(StateError, match=f"^{re.escape(masked(state.url))}: "):
        state.record_issue(record("2026-03-14", NOW), ["b", "a"])
    # One transaction: neither the issue nor its other entry stayed.
    assert state.issues.issue_ids("morning") == {"2026-03-13"}
    assert state.entries.used_entries("morning") == {"a"}


def test_a_build_written_in_a_block_commits_when_the_block_ends_and_not_if_it_raises(state: State) -> None:
    learnt = BuildRecord(
        edition="morning",
        now=NOW,
        results=(result("https://a.example/feed", "ok", etag='"v1"'),),
        first_seen={"a": NOW},
        issue=record("2026-03-14", NOW),
        used=("a",),
    )
    with (
        pytest.raises(RuntimeError, match="the folder could not be written"),
        state.committing_build(learnt) as pending,
    ):
        pending.prepare()
        raise RuntimeError("the folder could not be written")
    assert state.issues.issue_ids("morning") == set()
    assert state.fetch.validators(["https://a.example/feed"]) == {}
    assert state.entries.seen_before(["a"]) == {}

    with state.committing_build(learnt) as pending:
        pending.prepare()
        # No transaction is held open across the block: another writer goes on meanwhile.
        assert state.secrets.secret("written meanwhile", lambda: "yes") == ("yes", True)
        assert state.issues.issue_ids("morning") == set()
        pending.prepare()
    assert state.issues.issue_ids("morning") == {"2026-03-14"}
    assert state.entries.used_entries("morning") == {"a"}
    assert state.fetch.validators(["https://a.example/feed"]) == {"https://a.example/feed": ('"v1"', None)}


def test_state_url_creates_the_state_folder_beside_the_config(tmp_path: Path) -> None:
    config = Config.model_validate(
        {
            "path": tmp_path / "feeds.yaml",
            "state_dir": "var/state",
            "editions": {"x": {"title": "X", "sources": [{"url": "https://a/feed"}]}},
        }
    )
    url = state_url(config)
    assert url == f"sqlite:///{tmp_path / 'var' / 'state' / 'state.sqlite3'}"
    assert (tmp_path / "var" / "state").is_dir()
    with State(url) as state:
        state.entries.first_seen(["x"], NOW)
    assert (tmp_path / "var" / "state" / "state.sqlite3").is_file()
    database = config.model_copy(update={"database_url": "postgresql://u:p@db/digest"})
    assert state_url(database) == "postgresql://u:p@db/digest"


def test_errors_name_the_url_with_the_password_masked() -> None:
    assert (
        masked("postgresql://digest:s3cret@db.example/digest") == "postgresql://digest:***@db.example/digest"
    )
    with pytest.raises(StateError) as caught:
        State("postgresql+nosuchdriver://digest:s3cret@127.0.0.1:1/digest")
    message = str(caught.value)
    assert "s3cret" not in message and "digest:***@127.0.0.1" in message
    assert "\n" not in message


def test_an_unopenable_sqlite_file_is_a_state_error(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="unable to open database file"):
        State(f"sqlite:///{tmp_path / 'missing-folder' / 'state.sqlite3'}")
