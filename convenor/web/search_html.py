"""The search page's results as HTML, written in Python like the posts (post_html.py), and
the page's frame kept for every search alike.

Three links, a snippet and a date per hit were most of the page's time with template tags.
Every value that comes from people is escaped; the snippet is built escaped by
convenor/spaces/search.py (its only tags are the <mark>s it adds).

Nearly every search is a query nobody asked before, so the results cannot be kept as a whole
page for readers alike; but everything around them (the top bar, the form, the space menu)
is the same for every search by readers with the same spaces and role. That frame is
rendered once by the template with slots where the words, the results and the reader's own
things go (views_inbox.search fills them): a test compares it with the page rendered for
each reader alone.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.forms import BoundField
from django.http import QueryDict
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import urlencode
from django.urls import reverse
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from convenor.spaces.search import COUNT_CAP, Hit, SearchPage
from convenor.web.post_html import CSRF_SLOT, _url_for, escape

# The frame's slots (see above). The login link's "next" is urlencoded by the template, so its
# slot is found in the form the template leaves it in.
SLOT_USERNAV = "\x00usernav\x00"
SLOT_Q = "\x00q\x00"
SLOT_NAV_Q = "\x00navq\x00"
SLOT_NEXT = "\x00next\x00"
SLOT_NEXT_ENCODED = "%00next%00"
SLOT_BODY = "\x00body\x00"
SLOTS = re.compile(
    "("
    + "|".join(re.escape(s) for s in (SLOT_USERNAV, SLOT_Q, SLOT_NAV_Q, SLOT_NEXT_ENCODED, SLOT_BODY, CSRF_SLOT))
    + ")"
)


# The months' short names per language, as the date filter's 'M' writes them: translating
# twelve lazy names on every page was a few per cent of an uncached search's Python.
_MONTHS: dict[str | None, list[str]] = {}


def _months() -> list[str]:
    language = get_language()
    names = _MONTHS.get(language)
    if names is None:
        names = _MONTHS[language] = [""] + [str(MONTHS_3[m]).title() for m in range(1, 13)]
    return names


def render_hits(hits: list[Hit], *, q: str, space_id: int | None, author_id: int | None) -> SafeString:
    post_link = _url_for("web:post_link")
    space_url = _url_for("web:space_detail")
    more = f"{reverse('web:search')}?q={escape(urlencode(q))}&amp;author="
    in_space = f"&amp;space={space_id}" if space_id else ""
    # The date filter's 'j M Y', without its formatter's set-up for each hit.
    months = _months()
    out = []
    for h in hits:
        c = h.created_at
        if isinstance(c, datetime):
            day = f"{c.day} {months[c.month]} {c.year}"
        else:
            day = date_filter(c, "j M Y") if isinstance(c, str) else ""
        by_author = (
            f'· <a href="{more}{h.author_id}{in_space}">more by this author</a>' if h.author_id != author_id else ""
        )
        out.append(
            f'  <li class="card hit">\n'
            f'    <a class="hit-title" href="{post_link(h.post_id)}">{escape(h.thread_title)}</a>\n'
            f'    <p class="snippet">{h.snippet_html}</p>\n'
            f'    <p class="small muted"><a href="{space_url(h.space_slug)}">{escape(h.space_name)}</a> · '
            f"{escape(h.author_name)} · {escape(day)}\n"
            f"      {by_author}</p>\n"
            f"  </li>\n"
        )
    return mark_safe("".join(out))  # noqa: S308  # every interpolated value above is escaped


def render_space_select(field: BoundField) -> SafeString:
    """The space menu, as the form's Select widget writes it (a test compares the two): the
    widget's templates took a fifth of a search page's time."""
    value = field.value()
    chosen = "" if value is None else str(value)
    invalid = f' aria-invalid="true" aria-describedby="{field.auto_id}_error"' if field.errors else ""
    options = "".join(
        f'  <option value="{escape(v)}"{" selected" if str(v) == chosen else ""}>{escape(label)}</option>\n\n'
        for v, label in field.field.choices  # type: ignore[attr-defined]  # a ChoiceField's
    )
    return mark_safe(f'<select name="{field.html_name}"{invalid} id="{field.auto_id}">\n{options}</select>')  # noqa: S308  # escaped above


def render_body(
    result: SearchPage,
    *,
    q: str,
    query: QueryDict,
    space_id: int | None,
    author_id: int | None,
    author_name: str,
    invalid: bool,
) -> SafeString:
    """Everything under the search form: the author filter's note, the invalid filters'
    alert, and the results with their count and pagination (or why there are none).
    `query` is the request's query string, kept in the pagination's links."""
    search_url = reverse("web:search")
    q_url = escape(urlencode(q))
    out = []
    if author_id:
        in_space = f"&amp;space={space_id}" if space_id else ""
        out.append(
            f'<p class="filter-note">Only posts by <strong>{escape(author_name)}</strong> · '
            f'<a href="{search_url}?q={q_url}{in_space}">everyone</a></p>\n'
        )
    if invalid:
        out.append('<div class="alert alert-error">Some filters were not valid and were ignored.</div>\n')
    if not q:
        out.append(
            '<div class="card empty-state">\n  <p class="strong">What are you looking for?</p>\n'
            '  <p class="muted">Type a few words: a product, an error message, a person\'s topic.</p>\n</div>\n'
        )
    elif not result.hits:
        elsewhere = f', or <a href="{search_url}?q={q_url}">search everywhere</a>' if space_id or author_id else ""
        out.append(
            f'<div class="card empty-state">\n  <p class="strong">No results for “{escape(q)}”.</p>\n'
            f'  <p class="muted">Try fewer or shorter words{elsewhere}.</p>\n</div>\n'
        )
    else:
        if result.capped:
            count = f"{COUNT_CAP:,}+ results"
        else:
            count = f"{result.total} result{'' if result.total == 1 else 's'}"
        of = f" · page {result.page} of {result.pages}" if result.pages > 1 else ""
        out.append(f'<p class="muted">{count}{of}</p>\n<ol class="hits">\n')
        out.append(render_hits(result.hits, q=q, space_id=space_id, author_id=author_id))
        out.append("</ol>\n")
        if result.pages > 1:
            out.append(_pagination(result.page, result.pages, query))
    return mark_safe("".join(out))  # noqa: S308  # every interpolated value above is escaped


def _page_url(query: QueryDict, number: int) -> str:
    """The page_url template tag's link (convenor_web.py), escaped as the template does."""
    changed = query.copy()
    changed["page"] = str(number)
    return escape("?" + changed.urlencode())


def _pagination(page: int, pages: int, query: QueryDict) -> str:
    if page > 1:
        prev = f'<a class="btn btn-small" href="{_page_url(query, page - 1)}" rel="prev">← Previous</a>'
    else:
        prev = '<span class="btn btn-small disabled">← Previous</span>'
    if page < pages:
        nxt = f'<a class="btn btn-small" href="{_page_url(query, page + 1)}" rel="next">Next →</a>'
    else:
        nxt = '<span class="btn btn-small disabled">Next →</span>'
    return (
        f'<nav class="pagination" aria-label="Pages">\n  {prev}\n'
        f'  <span class="pageinfo">Page {page} of {pages}</span>\n  {nxt}\n</nav>\n'
    )
