"""Golden files: the text a build or a condense produces, kept beside the input that makes it.

A change to the condenser or the templates shows up here as a diff a reviewer
can read. After a change on purpose, regenerate them all with one command:

    DIGEST_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py

The clock is fixed with --now, so nothing volatile is left to normalise but the
temporary folder's path.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.cli import main
from digest.resources import init_folder

REPO = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("DIGEST_UPDATE_GOLDEN") == "1"
NOW = "2026-11-24T07:00:00+00:00"


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, "utf-8")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing: run DIGEST_UPDATE_GOLDEN=1 pytest tests/test_golden.py")
    expected = path.read_text("utf-8")
    assert actual.splitlines() == expected.splitlines(), f"{name} differs from the golden file"


@pytest.mark.slow
def test_demo_issue_txt(tmp_path: Path) -> None:
    init_folder(tmp_path)
    result = CliRunner().invoke(main, ["build", "--config", str(tmp_path / "feeds.yaml"), "--now", NOW])
    assert result.exit_code == 0, result.output
    check_golden("demo-issue.txt", (Path(result.stdout.strip()) / "issue.txt").read_text("utf-8"))


@pytest.mark.parametrize("article", sorted(p.name for p in (GOLDEN / "inputs").glob("*")))
def test_condense(article: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no feeds.yaml here: condense runs on the defaults
    result = CliRunner().invoke(main, ["condense", "--now", NOW, str(GOLDEN / "inputs" / article)])
    assert result.exit_code == 0, result.output
    check_golden(f"condense/{Path(article).stem}.txt", result.stdout)
