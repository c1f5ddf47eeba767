"""Issue -> Rendered: every file of an issue folder, drawn by the templates.

Python chooses templates and hands them data; all presentation is in
``digest/templates/`` (see templates.py for the environment). The steps:

1. ``issue.txt`` from ``issue.txt`` (FORMAT.md's digest shape); it is also the
   e-mail's text part.
2. ``email.html`` from ``email.html``, its CSS inlined once per issue
   (inline.py), so delivery sends it as is. Gmail clips a message whose HTML
   exceeds 102,000 bytes, so the template marks what may be cut and fit.py
   cuts, in order, Briefly items, then the rest of stories (to their lede),
   then whole stories, each from the last, until the e-mail fits; what it cut
   goes into the issue's run report (``report`` in issue.json).
3. ``briefing.html`` from ``briefing.html``, and ``briefing.pdf`` from it
   (pdf.py: PDF/A-3a, reading only files of the theme and default template
   folders, and http(s) images where the edition allows them).
4. ``issue.eml``, a complete message for previewing (mime.py), with a
   Message-ID derived from the issue so the same issue gives the same file.
5. ``issue.json`` (issuejson.py).

Template errors (a broken theme, a misspelt variable) raise RenderError
naming the template, before anything is written.

The PDF takes seconds where the rest takes a fraction of one, so
``render_issue`` hands briefing.html to the renderer it is given first and
renders the other files while the PDF is made; then it runs the caller's
``meanwhile`` (a build prepares what it learnt for the state store)
before it waits for the PDF.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.utils import formataddr, parseaddr
from typing import Any

import jinja2

from digest import issuejson
from digest.config import EditionConfig
from digest.errors import RenderError
from digest.output import newest_first
from digest.render import pdf
from digest.render.fit import Fit, fit_email
from digest.render.inline import inline_css
from digest.render.mime import build_message, header_value
from digest.render.pdf import PdfInfo, Renderer
from digest.render.templates import oneline, template_folders
from digest.types import Briefing, Issue, Links, Rendered

#: Gmail clips an HTML part longer than this (bytes, as decoded).
EMAIL_HTML_LIMIT = 102_000
#: What the renderer fills: the rest is room for what delivery puts in per subscriber (the
#: unsubscribe link's token), so a sent message stays under the limit too.
EMAIL_HTML_BUDGET = EMAIL_HTML_LIMIT - 2_000

#: Namespace of the Atom ids of issues: the same edition and issue id always give the same id.
_ATOM_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://digest.invalid/atom")
_NOT_IN_MESSAGE_ID = re.compile(r"[^A-Za-z0-9._-]+")


def _render(env: jinja2.Environment, name: str, **context: Any) -> str:
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound as err:
        raise RenderError(f"{name}: template not found: {err.name}") from err
    except jinja2.TemplateSyntaxError as err:
        raise RenderError(f"{err.filename or name}:{err.lineno}: {err.message}") from err
    except jinja2.TemplateError as err:
        raise RenderError(f"{name}: {err}") from err


def _title(issue: Issue, env: jinja2.Environment) -> str:
    return _render(env, "title.txt", issue=issue).strip()


def render_text(issue: Issue, links: Links, env: jinja2.Environment) -> str:
    """issue.txt: the issue in FORMAT.md's digest shape, with its footer."""
    return _render(env, "issue.txt", issue=issue, links=links)


def render_briefings_text(briefings: Sequence[Briefing], env: jinja2.Environment) -> str:
    """Briefings in FORMAT.md's shape, separated as in a digest, with no issue header or footer."""
    return _render(env, "briefings.txt", briefings=tuple(briefings))


def render_email_html(issue: Issue, links: Links, env: jinja2.Environment, base_url: str) -> str:
    """email.html with its CSS inlined, cut to stay under the limit (fit.py)."""
    return _email_html(issue, links, env, base_url)[0]


def _email_html(issue: Issue, links: Links, env: jinja2.Environment, base_url: str) -> tuple[str, Fit]:
    html = _render(env, "email.html", issue=issue, links=links, title=_title(issue, env))
    return fit_email(inline_css(html, base_url), EMAIL_HTML_BUDGET)


#: How the run report's lines about the e-mail's cuts begin (a render again replaces them).
FIT_REPORT_PREFIX = "email.html: "


def fit_report(fit: Fit) -> tuple[str, ...]:
    """The run report's line saying what the e-mail left out to fit (none when it left nothing out)."""
    if not fit.cut:
        return ()
    cuts = []
    if fit.briefly_kept < fit.briefly:
        cuts.append(f"{fit.briefly - fit.briefly_kept} of {fit.briefly} Briefly items left out")
    if fit.stories_whole < fit.stories_kept:
        shortened = fit.stories_kept - fit.stories_whole
        cuts.append(f"{shortened} of {fit.stories} stories cut to their lede")
    if fit.stories_kept < fit.stories:
        cuts.append(f"{fit.stories - fit.stories_kept} of {fit.stories} stories left out")
    return (
        f"{FIT_REPORT_PREFIX}cut to fit under {fit.limit:,} bytes: {', '.join(cuts)} "
        "(the full briefing has them)",
    )


def render_issue(
    issue: Issue,
    edition: EditionConfig,
    links: Links,
    env: jinja2.Environment,
    renderer: Renderer,
    *,
    sender: str | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> Rendered:
    """Every file of the issue's folder, the PDF by ``renderer``. ``sender`` defaults to the
    edition's delivery address; ``meanwhile`` is called while the PDF is still being made."""
    title = _title(issue, env)
    briefing_html = _render(env, "briefing.html", issue=issue, links=links, title=title)
    folders = template_folders(env)
    info = PdfInfo(title=title, author=oneline(issue.title), created=issue.built_at)
    # The PDF is the slowest file by far (seconds): it is started first, and everything else is
    # rendered meanwhile.
    job = pdf.job(briefing_html, folders[0], info, roots=folders[1:], images=edition.images)
    with renderer.rendering(job) as pending:
        text = render_text(issue, links, env)
        email_html, fit = _email_html(issue, links, env, edition.base_url)
        # What the e-mail left out goes into the run report; a render again replaces the old line.
        earlier = tuple(line for line in issue.report if not line.startswith(FIT_REPORT_PREFIX))
        # The Subject is kept in issue.json, so a send takes the build's Subject as it is.
        subject = header_value(_render(env, "subject.txt", issue=issue, title=title))
        issue = dataclasses.replace(issue, report=earlier + fit_report(fit), subject=subject)
        message = _preview_message(issue, edition, text, email_html, sender)
        issue_json = issuejson.dumps(issue)
        if meanwhile is not None:
            meanwhile()
        briefing_pdf = pending.result()
    return Rendered(
        issue_json=issue_json,
        issue_txt=text.encode("utf-8"),
        email_html=email_html.encode("utf-8"),
        briefing_html=briefing_html.encode("utf-8"),
        briefing_pdf=briefing_pdf,
        issue_eml=message,
        report=issue.report,
    )


def _preview_message(
    issue: Issue,
    edition: EditionConfig,
    text: str,
    email_html: str,
    sender: str | None,
) -> bytes:
    """issue.eml: the whole message, for a mail client's preview."""
    if sender is None:
        default_sender = formataddr((edition.title, "digest@localhost"))
        sender = edition.delivery.from_ if edition.delivery else default_sender
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    edition_name = _NOT_IN_MESSAGE_ID.sub("-", edition.name or issue.edition)
    message_id = f"<digest.{edition_name}.{_NOT_IN_MESSAGE_ID.sub('-', issue.issue_id)}@{domain}>"
    message = build_message(
        subject=issue.subject,
        sender=sender,
        # A preview has no one recipient; the group syntax says so in a valid header.
        to="undisclosed-recipients:;",
        text=text,
        html=email_html,
        date=issue.built_at,
        message_id_domain=domain,
        headers={"Message-ID": message_id},
    )
    return message.as_bytes()


def render_archive(
    issues: Sequence[Issue], edition: EditionConfig, env: jinja2.Environment
) -> tuple[bytes, bytes]:
    """(index.html, feed.xml) of an edition: every issue, newest first."""
    ordered = newest_first(issues)
    name = edition.name or (ordered[0].edition if ordered else edition.title)
    entry_ids = {i.issue_id: uuid.uuid5(_ATOM_NAMESPACE, f"{name}/{i.issue_id}").urn for i in ordered}
    # An empty feed still needs an <updated>; there is no build time to give, so the clock it is.
    updated = max((i.built_at for i in ordered), default=datetime.now(UTC))
    index = _render(env, "index.html", edition=edition, issues=ordered)
    feed = _render(
        env,
        "feed.xml",
        edition=edition,
        issues=ordered,
        updated=updated,
        feed_id=uuid.uuid5(_ATOM_NAMESPACE, name).urn,
        entry_ids=entry_ids,
    )
    return index.encode("utf-8"), feed.encode("utf-8")
