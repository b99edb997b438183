"""Template helpers for feedback partials shown on other apps' pages (the thread page)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import template
from django.db.models.functions import Substr
from django.utils.html import strip_tags

from convenor.core import access
from convenor.feedback import selectors
from convenor.feedback.models import Idea
from convenor.spaces.models import Post, PostState

register = template.Library()


@dataclass
class ThreadIdeas:
    """What the thread page's feedback partial shows: the ideas linked to its posts, and the
    posts of this page a logged-in viewer may turn into ideas."""

    linked: list[tuple[Any, list[Idea]]] = field(default_factory=list)
    posts: list[Any] = field(default_factory=list)
    can_make: bool = False


@register.simple_tag(takes_context=True)
def thread_ideas(context: dict[str, Any]) -> ThreadIdeas:
    """One query (the ideas linked to this thread); the posts come from the page already loaded."""
    request = context.get("request")
    thread = context.get("thread")
    page = context.get("page_obj")
    if request is None or thread is None:
        return ThreadIdeas()
    user = request.user
    can_make = access.is_authenticated(user)
    posts = _page_posts(thread, page) if can_make else []
    by_post = selectors.thread_ideas(viewer=user, thread_id=thread.pk)
    names = {p.pk: p.author_name for p in posts}
    linked = [({"pk": pid, "author": names.get(pid, "")}, ideas) for pid, ideas in by_post.items()]
    return ThreadIdeas(linked=linked, posts=posts, can_make=can_make)


@dataclass
class PagePost:
    pk: int
    author_name: str
    excerpt: str


def _page_posts(thread: Any, page: Any) -> list[PagePost]:
    """The published posts of the page being shown. The thread page may hand over its Post
    rows or (when it serves shared, pre-rendered posts) only a page of numbers: then one query
    reads the same slice, with a short excerpt rather than whole texts."""
    if page is None:
        return []
    items = list(page.object_list)
    if items and all(isinstance(p, Post) for p in items):
        return [PagePost(p.pk, p.author.name, strip_tags(p.html)[:90]) for p in items if p.state == PostState.PUBLISHED]
    start = page.start_index() - 1 if items else 0
    rows = (
        Post.objects.filter(thread_id=thread.pk, state=PostState.PUBLISHED)
        .order_by("created_at", "pk")
        .annotate(excerpt=Substr("text", 1, 90))
        .values_list("pk", "author__name", "excerpt")[start : start + len(items)]
    )
    return [PagePost(pk, name, excerpt) for pk, name, excerpt in rows]
