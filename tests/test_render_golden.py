"""Golden files of the renderings: email.html, issue.txt and briefing.html of the factory's issue.

A change to a template shows up as a diff a reviewer can read, in
``tests/golden/render/``. After a change on purpose, regenerate them (and the
other golden files) with one command:

    DIGEST_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py tests/test_render_golden.py

The issue, its build time and its links are fixed by tests/factories.py, so
the only volatile value left is the library that inlines the CSS: premailer
may write a colour as ``#fff`` or ``#ffffff`` from one version to the next;
colours are normalised to their long lower-case form before comparing.
"""

from __future__ import annotations

import re

import pytest
from factories import EDITION, make_issue, make_links, pdf_renderer
from test_golden import check_golden

from digest.render import environment, render_issue
from digest.types import Rendered

SHORT_COLOUR = re.compile(r"#([0-9a-fA-F])([0-9a-fA-F])([0-9a-fA-F])\b")


def normalise(text: str) -> str:
    long_colours = SHORT_COLOUR.sub(lambda m: "#" + "".join(c * 2 for c in m.groups()).lower(), text)
    return long_colours.replace("\r\n", "\n")


@pytest.fixture(scope="module")
def rendered() -> Rendered:
    links = make_links(unsubscribe="https://briefing.example.org/unsubscribe/TOKEN")
    return render_issue(make_issue(), EDITION, links, environment(), pdf_renderer())


@pytest.mark.parametrize("name", ["email.html", "issue.txt", "briefing.html"])
def test_rendering_matches_its_golden_file(rendered: Rendered, name: str) -> None:
    check_golden(f"render/{name}", normalise(rendered.files()[name].decode("utf-8")))


def test_normalise_lengthens_short_colours() -> None:
    assert normalise("color:#FfF; background:#1d5c96;\r\n") == "color:#ffffff; background:#1d5c96;\n"
