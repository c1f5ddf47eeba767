"""Pictures of the renderings: the e-mail in headless Chromium, the PDF's pages through pdftoppm.

The tests check that each picture has the size asked for and is not blank
(many colours, ink on paper), and that dark mode really is dark. They skip,
loudly, when Chromium or poppler-utils is absent (``.ci/run`` installs both).
Set ``DIGEST_SCREENSHOTS=folder`` to keep the PNGs for a look.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import needs
import pytest
from factories import EDITION, make_issue, make_links, pdf_renderer
from PIL import Image, ImageStat

from digest.render import environment, render_issue
from digest.types import Rendered

HEIGHT = 1400
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")


@pytest.fixture(scope="module")
def rendered() -> Rendered:
    return render_issue(make_issue(), EDITION, make_links(), environment(), pdf_renderer())


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    kept = os.environ.get("DIGEST_SCREENSHOTS")
    folder = Path(kept) if kept else tmp_path_factory.mktemp("pictures")
    folder.mkdir(parents=True, exist_ok=True)
    yield folder


def chromium() -> str:
    for name in CHROMIUM_NAMES:
        if found := shutil.which(name):
            return found
    return needs.program("chromium", "chromium", "the e-mail's screenshots")


def screenshot(html: Path, out: Path, width: int, *, dark: bool = False) -> Image.Image:
    # Both switches: the first darkens the browser's own UI and media queries on some builds, the
    # second sets prefers-color-scheme for the page on others (0 = dark).
    dark_flags = ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"] if dark else []
    subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-extensions",
            f"--user-data-dir={out.parent / 'chromium-profile'}",
            *dark_flags,
            f"--window-size={width},{HEIGHT}",
            f"--screenshot={out}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=90,
    )
    return Image.open(out).convert("RGB")


def assert_not_blank(image: Image.Image) -> None:
    colours = image.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50, "hardly any colours: a blank picture"
    low, high = zip(*ImageStat.Stat(image.convert("L")).extrema, strict=True)
    assert high[0] - low[0] > 150, "no contrast: a blank picture"


def brightness(image: Image.Image) -> float:
    return float(ImageStat.Stat(image.convert("L")).mean[0])


@pytest.mark.slow
@pytest.mark.parametrize("width", [375, 600])
def test_email_screenshot(rendered: Rendered, pictures: Path, width: int) -> None:
    html = pictures / "email.html"
    html.write_bytes(rendered.email_html)
    image = screenshot(html, pictures / f"email-{width}.png", width)
    assert image.size == (width, HEIGHT)
    assert_not_blank(image)
    assert brightness(image) > 180  # light paper, dark ink


@pytest.mark.slow
def test_email_screenshot_in_dark_mode(rendered: Rendered, pictures: Path) -> None:
    html = pictures / "email.html"
    html.write_bytes(rendered.email_html)
    image = screenshot(html, pictures / "email-dark-600.png", 600, dark=True)
    assert image.size == (600, HEIGHT)
    assert_not_blank(image)
    assert brightness(image) < 80  # the template's dark colours, not the light ones


def test_pdf_pages_as_pictures(rendered: Rendered, pictures: Path) -> None:
    needs.program("pdftoppm", "poppler-utils", "the PDF's pages as pictures")
    pdf = pictures / "briefing.pdf"
    pdf.write_bytes(rendered.briefing_pdf)
    command = ["pdftoppm", "-r", "50", "-png", str(pdf), str(pictures / "page")]
    subprocess.run(command, check=True, timeout=120)
    pages = sorted(pictures.glob("page-*.png"))
    assert len(pages) == 5  # front page (masthead and contents), three stories, Briefly
    for page in pages:
        image = Image.open(page).convert("RGB")
        # A4 at 50 dpi: 210 x 297 mm.
        assert abs(image.width - 413) <= 1 and abs(image.height - 585) <= 1
        assert_not_blank(image)
        assert brightness(image) > 200  # mostly paper
