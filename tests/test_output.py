"""out/ writes: an issue folder appears whole or not at all; files are replaced atomically."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from factories import make_issue

from digest import issuejson
from digest.errors import InputError, OutputError
from digest.output import read_issues, replace_files, write_issue
from digest.types import Issue, Rendered


def _rendered(issue: Issue | None = None) -> Rendered:
    issue = issue or make_issue()
    return Rendered(
        issue_json=issuejson.dumps(issue),
        issue_txt=b"text\n",
        email_html=b"<html></html>\n",
        briefing_html=b"<html></html>\n",
        briefing_pdf=b"%PDF-1.7\n",
        issue_eml=b"Subject: x\r\n\r\nbody\r\n",
    )


@dataclass(frozen=True)
class _FailsHalfway(Rendered):
    """Files whose third cannot be written: a name that points into a missing folder."""

    def files(self) -> dict[str, bytes]:
        items = list(super().files().items())
        return {**dict(items[:2]), "missing/briefing.pdf": b"x", **dict(items[2:])}


def test_write_issue_writes_every_file(tmp_path: Path) -> None:
    rendered = _rendered()
    folder = write_issue(tmp_path / "morning", "2026-03-14", rendered)
    assert folder == tmp_path / "morning" / "2026-03-14"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == rendered.files()
    assert [p.name for p in (tmp_path / "morning").iterdir()] == ["2026-03-14"]
    assert folder.stat().st_mode & 0o777 == 0o755


def test_existing_issue_is_never_overwritten(tmp_path: Path) -> None:
    edition = tmp_path / "morning"
    (edition / "2026-03-14").mkdir(parents=True)
    (edition / "2026-03-14" / "issue.txt").write_bytes(b"the editor's copy\n")
    with pytest.raises(OutputError, match="already exists") as caught:
        write_issue(edition, "2026-03-14", _rendered())
    assert str(edition / "2026-03-14") in str(caught.value)
    assert [p.name for p in edition.iterdir()] == ["2026-03-14"]
    assert (edition / "2026-03-14" / "issue.txt").read_bytes() == b"the editor's copy\n"


def test_failing_write_leaves_nothing(tmp_path: Path) -> None:
    edition = tmp_path / "morning"
    with pytest.raises(OutputError, match="cannot write"):
        write_issue(edition, "2026-03-14", _FailsHalfway(**vars(_rendered())))
    assert list(edition.iterdir()) == []


def test_failure_of_any_kind_leaves_nothing(tmp_path: Path) -> None:
    edition = tmp_path / "morning"
    not_bytes = replace(_rendered(), briefing_pdf=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        write_issue(edition, "2026-03-14", not_bytes)
    assert list(edition.iterdir()) == []


@pytest.mark.parametrize("issue_id", ["../escape", ".hidden", "", "a/b"])
def test_issue_id_must_be_a_plain_name(tmp_path: Path, issue_id: str) -> None:
    with pytest.raises(OutputError, match="not a valid"):
        write_issue(tmp_path / "morning", issue_id, _rendered())
    assert not (tmp_path / "escape").exists()


def test_replace_files_replaces_and_creates(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_bytes(b"old")
    replace_files(tmp_path, {"index.html": b"new", "feed.xml": b"<feed/>"})
    written = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert written == {"index.html": b"new", "feed.xml": b"<feed/>"}


def test_replace_files_refuses_names_outside_the_folder(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    with pytest.raises(OutputError, match="not a valid"):
        replace_files(tmp_path / "in", {"../out.html": b"x"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_replace_files_fails_cleanly_without_the_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="cannot write"):
        replace_files(tmp_path / "missing", {"index.html": b"x"})


def _write(edition: Path, issue_id: str, built_at: datetime) -> Issue:
    issue = make_issue(issue_id=issue_id, built_at=built_at)
    write_issue(edition, issue_id, _rendered(issue))
    return issue


def test_read_issues_newest_first(tmp_path: Path) -> None:
    edition = tmp_path / "morning"
    plus_five = timezone(timedelta(hours=5))
    middle = _write(edition, "2026-03-14", datetime(2026, 3, 14, 7, 0, tzinfo=UTC))
    # Earlier on the clock face, later in time: order is by instant, not by text.
    newest = _write(edition, "2026-03-15", datetime(2026, 3, 14, 12, 30, tzinfo=plus_five))
    oldest = _write(edition, "2026-03-13", datetime(2026, 3, 13, 7, 0, tzinfo=UTC))
    (edition / ".building-2026-03-16-x").mkdir()
    (edition / ".building-2026-03-16-x" / "issue.json").write_text("half written")
    (edition / "index.html").write_text("<html></html>")
    assert read_issues(edition) == (newest, middle, oldest)


def test_read_issues_names_a_broken_issue(tmp_path: Path) -> None:
    edition = tmp_path / "morning"
    _write(edition, "2026-03-14", datetime(2026, 3, 14, 7, 0, tzinfo=UTC))
    (edition / "2026-03-15").mkdir()
    (edition / "2026-03-15" / "issue.json").write_text('{"edition": "morning"}')
    with pytest.raises(InputError) as caught:
        read_issues(edition)
    assert str(caught.value).startswith(f"{edition / '2026-03-15' / 'issue.json'}: issue_id: missing")


def test_read_issues_of_a_new_edition_is_empty(tmp_path: Path) -> None:
    assert read_issues(tmp_path / "never-built") == ()
