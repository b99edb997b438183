"""Template helpers for feedback partials shown on other apps' pages (the thread page)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from typing import Any, NamedTuple

from django import template
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from convenor.core import access
from convenor.feedback import selectors
from convenor.feedback.models import Idea
from convenor.spaces.markdown import plain_text
from convenor.spaces.models import Post, PostState

register = template.Library()

EXCERPT = 90
_SENTINEL = 987654321


class PagePost(NamedTuple):
    """A post of the page as the "make an idea" list names it."""

    pk: int
    author_name: str
    excerpt: str


@dataclass
class ThreadIdeas:
    """What the thread page's feedback partial shows: the ideas linked to its posts, and the
    posts of this page a logged-in viewer may turn into ideas (`offers`, their list items)."""

    linked: list[tuple[Any, list[Idea]]] = field(default_factory=list)
    posts: list[PagePost] = field(default_factory=list)
    can_make: bool = False
    offers: SafeString = field(default_factory=lambda: mark_safe(""))


@register.simple_tag(takes_context=True)
def thread_ideas(context: dict[str, Any]) -> ThreadIdeas:
    """One query (the ideas linked to this thread). The posts come from the page: `idea_posts`
    when the thread page serves shared, pre-rendered posts (views_spaces.py keeps them with
    those), else its Post rows."""
    request = context.get("request")
    thread = context.get("thread")
    page = context.get("page_obj")
    if request is None or thread is None:
        return ThreadIdeas()
    user = request.user
    can_make = access.is_authenticated(user)
    posts: list[PagePost] = []
    if can_make:
        given = context.get("idea_posts")
        posts = list(given) if given is not None else _page_posts(thread, page)
    by_post = selectors.thread_ideas(viewer=user, thread_id=thread.pk)
    names = {p.pk: p.author_name for p in posts}
    linked = [({"pk": pid, "author": names.get(pid, "")}, ideas) for pid, ideas in by_post.items()]
    return ThreadIdeas(linked=linked, posts=posts, can_make=can_make, offers=offers_html(posts))


def page_posts(posts: Iterable[Post]) -> list[PagePost]:
    """The published posts among a page's Post rows (author loaded), with their excerpts."""
    return [
        PagePost(p.pk, p.author.name, plain_text(p.html)[:EXCERPT]) for p in posts if p.state == PostState.PUBLISHED
    ]


def offers_html(posts: Iterable[PagePost]) -> SafeString:
    """The "make an idea" list's items: one URL reversed for the page, not one per post
    (ids are numbers, so nothing to quote); names and excerpts escaped."""
    head, tail = reverse("feedback:from_post", args=[_SENTINEL]).split(str(_SENTINEL))
    items = [
        f'<li><a href="{head}{p.pk}{tail}" data-post="{p.pk}">Make an idea / link to an idea</a> '
        f'<span class="muted">· {escape(p.author_name)}: {escape(p.excerpt)}'
        f"{'…' if len(p.excerpt) >= EXCERPT - 1 else ''}</span></li>\n"
        for p in posts
    ]
    return mark_safe("".join(items))  # noqa: S308  # every interpolated value is a number or escaped


def _page_posts(thread: Any, page: Any) -> list[PagePost]:
    """The published posts of the page being shown. The thread page hands over its Post rows
    (or `idea_posts`); given only a page of numbers, one query reads the same slice, with a
    short excerpt rather than whole texts."""
    if page is None:
        return []
    items = list(page.object_list)
    if items and all(isinstance(p, Post) for p in items):
        return page_posts(items)
    start = page.start_index() - 1 if items else 0
    rows = (
        Post.objects.filter(thread_id=thread.pk, state=PostState.PUBLISHED)
        .order_by("created_at", "pk")
        .annotate(excerpt=Substr("text", 1, EXCERPT))
        .values_list("pk", "author__name", "excerpt")[start : start + len(items)]
    )
    return [PagePost(pk, name, excerpt) for pk, name, excerpt in rows]
