"""The wheel works without the checkout: built, installed into a fresh venv outside the
repository, and used as a new user would (`digest init`, `build`, `condense`, `serve`, `render`).

Slow (about half a minute: the fresh venv installs every dependency); CI runs it with the rest.
"""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SIX_FILES = {"issue.json", "issue.txt", "email.html", "briefing.html", "briefing.pdf", "issue.eml"}


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_wheel_installed_in_a_fresh_venv_builds_the_demo(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    made = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, REPO, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    (wheel,) = wheels.glob("digest-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for packaged in (
        "templates/briefing.html",
        "templates/editions.html",
        "demo/world.xml",
        "starter/feeds.yaml",
    ):
        assert f"digest/{packaged}" in names

    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    installed = run(python, "-m", "pip", "install", "-q", wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    command = env / "bin" / "digest"
    user = tmp_path / "home"
    user.mkdir()
    # The installed package, not the checkout, is what runs.
    where = run(python, "-c", "import digest; print(digest.__file__)", cwd=user)
    assert where.stdout.startswith(str(env)), where.stdout

    init = run(command, "init", "starter", cwd=user)
    assert init.returncode == 0, init.stderr
    folder = user / "starter"
    build = run(command, "build", "--now", "2026-11-25T07:00:00+00:00", cwd=folder)
    assert build.returncode == 0, build.stderr
    (issue,) = build.stdout.split()
    assert {p.name for p in Path(issue).iterdir()} == SIX_FILES
    assert "template not found" not in build.stderr

    condensed = run(command, "condense", folder / "demo" / "city.xml", cwd=user)
    assert condensed.returncode == 0, condensed.stderr
    assert "\n- - -\n" in condensed.stdout

    again = run(command, "render", issue, cwd=user)
    assert again.returncode == 0, again.stderr

    server = subprocess.Popen(
        [command, "serve", "--port", "0"], cwd=folder, stderr=subprocess.PIPE, text=True
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        found = re.search(r"serving on (http://127\.0\.0\.1:\d+/)", line)
        assert found, line
        with urllib.request.urlopen(found.group(1), timeout=10) as response:
            assert "The Demo Briefing" in response.read().decode("utf-8")
        with urllib.request.urlopen(found.group(1) + "demo/index.html", timeout=10) as response:
            assert response.status == 200
    finally:
        server.terminate()
        server.wait(10)
