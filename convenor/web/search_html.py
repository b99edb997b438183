"""The hits of a search page as HTML, written in Python like the posts (post_html.py).

Three links, a snippet and a date per hit were most of the page's time with template tags.
Every value that comes from people is escaped; the snippet is built escaped by
convenor/spaces/search.py (its only tags are the <mark>s it adds).
"""

from __future__ import annotations

from datetime import datetime

from django.forms import BoundField
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import urlencode
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from convenor.spaces.search import Hit
from convenor.web.post_html import _url_for, escape


def render_hits(hits: list[Hit], *, q: str, space_id: int | None, author_id: int | None) -> SafeString:
    post_link = _url_for("web:post_link")
    space_url = _url_for("web:space_detail")
    more = f"{reverse('web:search')}?q={escape(urlencode(q))}&amp;author="
    in_space = f"&amp;space={space_id}" if space_id else ""
    out = []
    for h in hits:
        created = h.created_at if isinstance(h.created_at, (datetime, str)) else None
        by_author = (
            f'· <a href="{more}{h.author_id}{in_space}">more by this author</a>' if h.author_id != author_id else ""
        )
        out.append(
            f'  <li class="card hit">\n'
            f'    <a class="hit-title" href="{post_link(h.post_id)}">{escape(h.thread_title)}</a>\n'
            f'    <p class="snippet">{h.snippet_html}</p>\n'
            f'    <p class="small muted"><a href="{space_url(h.space_slug)}">{escape(h.space_name)}</a> · '
            f"{escape(h.author_name)} · {escape(date_filter(created, 'j M Y'))}\n"
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
