"""The Jinja2 environment every rendering goes through.

Templates do all of the presentation; this module only decides where they
come from and how they behave:

- the default theme is the package's ``templates/`` folder (digest/resources.py); a user theme
  folder (``EditionConfig.theme``, already made absolute by the caller) is
  searched first, so it overrides the defaults one file at a time;
- HTML and XML templates are autoescaped, text templates are not (a headline
  such as ``AT&T`` must stay readable in ``issue.txt``);
- ``StrictUndefined`` turns a misspelt variable into an error instead of an
  empty string, so a broken theme fails the build before anything is written.

Three small filters keep data tidy for the templates: ``oneline`` folds any
line breaks inside a paragraph (FORMAT.md: one paragraph per line),
``isodate`` writes a date or datetime in ISO 8601, and ``names`` escapes a
paragraph and marks each capitalised word of five letters or more as a name
(``<span class="name">``), which the stylesheet never hyphenates. The test ``weblink``
tells an absolute http(s) URL, the only kind that becomes a link (a feed's
``javascript:`` or relative link stays text).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import jinja2
import markupsafe

from digest import resources
from digest.errors import RenderError

#: The default theme, shipped inside the package.
DEFAULT_TEMPLATES = resources.templates()

_WHITESPACE_RUN = re.compile(r"\s+")


def oneline(text: object) -> str:
    """Any run of white space (line breaks included) becomes one space."""
    return _WHITESPACE_RUN.sub(" ", str(text)).strip()


def _isodate(value: date | datetime) -> str:
    return value.isoformat()


#: A word: letters, with inner apostrophes or hyphens ("O'Neill", "Jean-Luc").
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
#: Shorter words are never hyphenated anyway (two letters either side of a break, at least).
_NAME_LENGTH = 5


def names(text: object) -> markupsafe.Markup:
    """``text`` escaped, each capitalised word of ``_NAME_LENGTH`` letters or more in a
    ``<span class="name">``: names are not to be hyphenated ("Be-nedikt")."""

    def mark(found: re.Match[str]) -> str:
        word = found.group()
        if len(word) < _NAME_LENGTH or not word[0].isupper():
            return word
        return f'<span class="name">{word}</span>'

    # Escaped first: entities (&amp; &#39;) hold no capitalised word, so the markup stays whole.
    return markupsafe.Markup(_WORD.sub(mark, str(markupsafe.escape(text))))


def _is_weblink(url: object) -> bool:
    """True for an absolute http(s) URL: the only kind a template turns into a link."""
    return isinstance(url, str) and url.startswith(("http://", "https://"))


def _autoescape(name: str | None) -> bool:
    # Text templates (.txt) stay raw; everything else that is markup is escaped.
    return name is not None and name.endswith((".html", ".xml", ".htm"))


def environment(theme: Path | None = None) -> jinja2.Environment:
    """The environment for the default templates, overridden file by file by ``theme``.

    Raises RenderError naming the folder when ``theme`` is not a folder, so a
    typo in the config does not silently fall back to the default look.
    """
    loaders: list[jinja2.BaseLoader] = []
    if theme is not None:
        if not theme.is_dir():
            raise RenderError(f"{theme}: theme folder not found")
        loaders.append(jinja2.FileSystemLoader(theme))
    loaders.append(jinja2.FileSystemLoader(DEFAULT_TEMPLATES))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["oneline"] = oneline
    env.filters["isodate"] = _isodate
    env.filters["names"] = names
    env.tests["weblink"] = _is_weblink
    return env


def template_folders(env: jinja2.Environment) -> tuple[Path, ...]:
    """The folders ``env`` loads templates from, in the order they are searched."""
    loader = env.loader
    loaders = loader.loaders if isinstance(loader, jinja2.ChoiceLoader) else [loader]
    folders: list[Path] = []
    for each in loaders:
        if isinstance(each, jinja2.FileSystemLoader):
            folders.extend(Path(p).resolve() for p in each.searchpath)
    return tuple(folders)
