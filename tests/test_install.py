"""What a new user meets: `digest init`, a build from the package's own files, `digest render`
from anywhere, `digest serve`'s front page, and the messages and PDF details they read.

Every command runs as a real process (``python -m digest``), as a user would run it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import needs
import pytest
from pypdf import PdfReader

from digest import resources
from digest.render.pdf import font_package

REPO = Path(__file__).resolve().parents[1]
NOW = "2026-11-25T07:00:00+00:00"
SIX_FILES = {"issue.json", "issue.txt", "email.html", "briefing.html", "briefing.pdf", "issue.eml"}


def digest(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the folder `digest init` wrote, the issue `digest build` made in it)."""
    root = tmp_path_factory.mktemp("user")
    result = digest("init", "starter", cwd=root)
    assert result.returncode == 0, result.stderr
    folder = root / "starter"
    build = digest("build", "--now", NOW, cwd=folder)
    assert build.returncode == 0, build.stderr
    (issue,) = build.stdout.split()
    return folder, Path(issue)


# -- the package carries its files -------------------------------------------------------------


def test_templates_demo_and_starter_are_package_data() -> None:
    package = Path(resources.__file__).parent
    for name in ("templates", "demo", "starter"):
        assert resources.folder(name) == (package / name).resolve()
    assert (resources.templates() / "briefing.html").is_file()
    assert sorted(p.name for p in resources.demo().iterdir()) == [
        "city.xml",
        "science.atom",
        "wire.rdf",
        "world.xml",
    ]
    # Nothing of the theme or the demo is left at the top of the checkout to be missed by a wheel.
    assert not (REPO / "templates").exists() and not (REPO / "demo").exists()
    pyproject = (REPO / "pyproject.toml").read_text("utf-8")
    assert 'digest = ["templates/*", "demo/*", "starter/*"]' in pyproject


def test_the_starter_config_is_the_clones_but_for_where_the_demo_lies() -> None:
    clone = (REPO / "feeds.yaml").read_text("utf-8").splitlines()
    starter = (resources.folder("starter") / "feeds.yaml").read_text("utf-8").splitlines()
    # Past the opening comment, the two differ only in the demo sources' folder.
    clone_body = clone[
        clone.index('# Every key is optional unless marked "required". Relative paths are relative') :
    ]
    starter_body = starter[starter.index(clone_body[0]) :]
    moved = [" ".join(line.replace("url: digest/demo/", "url: demo/").split()) for line in clone_body]
    assert moved == [" ".join(line.split()) for line in starter_body]
    assert sum("url: digest/demo/" in line for line in clone_body) == 4


def test_init_writes_a_ready_folder(built: tuple[Path, Path]) -> None:
    folder, _ = built
    written = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert {"feeds.yaml", "subscribers.csv.example", "demo/world.xml", "demo/wire.rdf"} <= set(written)
    config = (folder / "feeds.yaml").read_text("utf-8")
    assert config.startswith("# Digest configuration") and "`digest init` wrote this file" in config
    assert (folder / "subscribers.csv.example").read_text("utf-8").startswith("email,name,pdf\n")
    check = digest("check", cwd=folder)
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == "feeds.yaml: ok (1 edition, 4 sources)"


def test_init_then_build_offline_gives_an_issue_with_all_six_files(built: tuple[Path, Path]) -> None:
    folder, issue = built
    assert issue == folder / "out" / "demo" / "2026-11-25"
    assert {p.name for p in issue.iterdir()} == SIX_FILES
    assert len(PdfReader(issue / "briefing.pdf").pages) > 5


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "feeds.yaml").write_text("editions: {}\n", "utf-8")
    result = digest("init", "mine", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("digest: error: mine: would overwrite feeds.yaml;")
    assert "nothing was written" in result.stderr
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["feeds.yaml"]
    assert (tmp_path / "mine" / "feeds.yaml").read_text("utf-8") == "editions: {}\n"
    (tmp_path / "file").write_text("x", "utf-8")
    assert digest("init", "file", cwd=tmp_path).returncode == 2


def test_condense_prints_text_without_a_config(tmp_path: Path) -> None:
    result = digest("condense", str(resources.demo() / "world.xml"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n- - -\n") >= 3 and re.search(r"^date 2026-11-\d\d ", result.stdout, re.M)


# -- digest render from anywhere ----------------------------------------------------------------


def test_issue_json_records_its_config_relative_to_the_issue(built: tuple[Path, Path]) -> None:
    folder, issue = built
    recorded = json.loads((issue / "issue.json").read_text("utf-8"))["config"]
    assert recorded == "../../../feeds.yaml"
    assert (issue / recorded).resolve() == (folder / "feeds.yaml").resolve()


def test_render_from_another_folder_finds_the_config(built: tuple[Path, Path], tmp_path: Path) -> None:
    _, issue = built
    before = (issue / "issue.txt").read_text("utf-8")
    data = json.loads((issue / "issue.json").read_text("utf-8"))
    data["stories"][0]["headline"] = "An editor's new headline"
    (issue / "issue.json").write_text(json.dumps(data, indent=2), "utf-8")
    result = digest("render", str(issue), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(issue)
    after = (issue / "issue.txt").read_text("utf-8")
    assert after != before and "An editor's new headline" in after
    assert json.loads((issue / "issue.json").read_text("utf-8"))["config"] == "../../../feeds.yaml"


def test_render_falls_back_to_the_config_beside_the_out_folder(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    _, issue = built
    copy = tmp_path / "site" / "out" / "demo" / issue.name
    shutil.copytree(issue, copy)
    data = json.loads((copy / "issue.json").read_text("utf-8"))
    del data["config"]  # an issue built before issue.json named its config
    (copy / "issue.json").write_text(json.dumps(data), "utf-8")
    assert digest("render", str(copy), cwd=tmp_path).returncode == 2  # no config anywhere yet
    shutil.copy(built[0] / "feeds.yaml", tmp_path / "site" / "feeds.yaml")
    shutil.copytree(built[0] / "demo", tmp_path / "site" / "demo")
    result = digest("render", str(copy), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads((copy / "issue.json").read_text("utf-8"))["config"] == "../../../feeds.yaml"


def test_render_of_a_folder_that_is_not_an_issue_says_so(built: tuple[Path, Path]) -> None:
    folder, _ = built
    result = digest("render", "out/demo", cwd=folder)
    assert result.returncode == 2
    assert result.stderr.strip() == "digest: error: out/demo: not an issue folder (it has no issue.json)"


# -- digest serve -------------------------------------------------------------------------------


@pytest.fixture
def served(built: tuple[Path, Path]) -> Iterator[str]:
    folder, _ = built
    server = subprocess.Popen(
        [sys.executable, "-m", "digest", "serve", "--port", "0"],
        cwd=folder,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        found = re.search(r"serving on (http://127\.0\.0\.1:\d+/)", line)
        assert found, line
        yield found.group(1)
    finally:
        server.terminate()
        server.wait(10)


def test_serve_answers_the_root_with_the_editions_and_their_issues(served: str) -> None:
    with urllib.request.urlopen(served, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        page = response.read().decode("utf-8")
    assert '<a href="/demo/">The Demo Briefing</a>' in page
    assert '<a href="/demo/2026-11-25/briefing.html">Wednesday, 25 November 2026</a>' in page
    with urllib.request.urlopen(served + "demo/2026-11-25/briefing.html", timeout=10) as response:
        assert response.status == 200


def test_serve_gives_the_feed_as_atom(served: str) -> None:
    with urllib.request.urlopen(served + "demo/feed.xml", timeout=10) as response:
        assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
        assert b"<feed" in response.read()


# -- what the renderings read like --------------------------------------------------------------


def test_the_emails_contents_link_to_each_story(built: tuple[Path, Path]) -> None:
    _, issue = built
    html = (issue / "email.html").read_text("utf-8")
    stories = json.loads((issue / "issue.json").read_text("utf-8"))["stories"]
    for number in range(1, len(stories) + 1):
        assert re.search(rf'<a href="#story-{number}"[^>]*>', html), number
        assert f'id="story-{number}"' in html
    assert f'id="story-{len(stories) + 1}"' not in html


def test_spaced_capitals_copy_out_as_words(built: tuple[Path, Path]) -> None:
    _, issue = built
    pdftotext = needs.program("pdftotext", "poppler-utils", "the PDF's text as viewers copy it")
    command = [pdftotext, str(issue / "briefing.pdf"), "-"]
    text = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60).stdout
    assert "ISSUE 2026-11-25" in text and "IN THIS ISSUE" in text and "SOURCES" in text
    assert not re.search(r"\b[A-Z] [A-Z]{1,2} [A-Z]\b", text)


def test_names_are_not_hyphenated_but_words_are(built: tuple[Path, Path]) -> None:
    _, issue = built
    text = "\n".join(page.extract_text() for page in PdfReader(issue / "briefing.pdf").pages)
    broken = re.findall(r"(\w+)[\u2010-]\n(\w+)", text)
    assert broken, "hyphenation is on for ordinary words"
    assert [pair for pair in broken if pair[0][0].isupper()] == []


def test_first_story_follows_the_contents(built: tuple[Path, Path]) -> None:
    _, issue = built
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(issue / "briefing.pdf").pages]
    first = json.loads((issue / "issue.json").read_text("utf-8"))["stories"][0]["headline"]
    contents_end = max(n for n, text in enumerate(pages) if re.search(r"Briefly[ .]+\d+", text))
    after = re.split(r"Briefly[ .]+\d+", pages[contents_end], maxsplit=1)[1]
    assert first in after


def test_missing_glyphs_are_told_once_naming_the_font_package(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    """With only DejaVu visible to fontconfig, CJK and emoji have no font."""
    folder, issue = built
    fonts = tmp_path / "fonts.conf"
    fonts.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n<fontconfig>\n'
        "<dir>/usr/share/fonts/truetype/dejavu</dir>\n"
        f"<cachedir>{tmp_path / 'cache'}</cachedir>\n"
        '<include ignore_missing="yes">/etc/fonts/conf.d</include>\n</fontconfig>\n',
        "utf-8",
    )
    if not Path("/usr/share/fonts/truetype/dejavu").is_dir():
        pytest.skip("NEEDS fonts-dejavu-core: the check hides every font but DejaVu")
    copy = tmp_path / "out" / "demo" / issue.name
    shutil.copytree(issue, copy)
    data = json.loads((copy / "issue.json").read_text("utf-8"))
    data["stories"][0]["headline"] = "東京都が発表 🚢 and 大阪府が発表 🚢"
    data["stories"][1]["headline"] = "Another headline with 東京 and 🚢"
    (copy / "issue.json").write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    config = str(folder / "feeds.yaml")
    result = digest(
        "render", "--config", config, str(copy), cwd=tmp_path, env={"FONTCONFIG_FILE": str(fonts)}
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert not [line for line in lines if ".notdef" in line]
    cjk = [line for line in lines if "fonts-noto-cjk" in line]
    emoji = [line for line in lines if "fonts-noto-color-emoji" in line]
    assert len(cjk) == 1 and len(emoji) == 1, lines
    assert cjk[0].startswith("digest: warning: briefing.pdf: no installed font has 東 (U+6771)")


def test_font_packages_by_script() -> None:
    assert font_package("東") == font_package("한") == font_package("あ") == "fonts-noto-cjk"
    assert font_package("🚢") == font_package("☔") == "fonts-noto-color-emoji"
    assert font_package("ऄ") == font_package("ሀ") == "fonts-noto-core"


# -- messages -----------------------------------------------------------------------------------


def test_counts_in_messages_are_pluralised(tmp_path: Path) -> None:
    from digest.text import counted

    assert counted(1, "edition") == "1 edition" and counted(2, "edition") == "2 editions"
    assert counted(0, "story", "stories") == "0 stories" and counted(1, "story", "stories") == "1 story"
    config = tmp_path / "feeds.yaml"
    # `digest check` checks that local sources exist.
    for name in ("a.xml", "b.xml"):
        (tmp_path / name).write_text("<rss version='2.0'><channel><title>T</title></channel></rss>", "utf-8")
    config.write_text("editions:\n  a:\n    title: A\n    sources: [{url: a.xml}]\n", "utf-8")
    assert digest("check", cwd=tmp_path).stdout.strip() == "feeds.yaml: ok (1 edition, 1 source)"
    config.write_text(
        "editions:\n  a:\n    title: A\n    sources: [{url: a.xml}, {url: b.xml}]\n"
        "  b:\n    title: B\n    sources: [{url: a.xml}]\n",
        "utf-8",
    )
    assert digest("check", cwd=tmp_path).stdout.strip() == "feeds.yaml: ok (2 editions, 3 sources)"
