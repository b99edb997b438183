"""The posts of a thread page as HTML, written in Python rather than with template tags.

A thread page shows up to 100 posts, each with its header, body, reactions and actions:
with the template language that was some twenty tags and a few URL reversals per post, and
most of the page's time. Here each post is one f-string. Everything that comes from a
person is escaped with ``escape``; the post body is the HTML the Markdown sanitiser stored
(convenor/spaces/markdown.py), shown as it is, exactly as the template's ``|safe`` did.

The output is the markup the template produced, for the same viewer: reaction buttons and
"Reply to this" for a logged-in viewer, counts only for a visitor; Edit for the author
(while the thread is open) and moderators; "Accept as answer" for the asker and moderators.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from html import escape as _escape

from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString, mark_safe

from convenor.spaces.models import Post

_SENTINEL = 987654321
# The id of the form every reaction button on a thread page submits (thread_detail.html):
# one form with the reader's CSRF token for the page, not one per post, so the posts hold
# nothing of the reader's and are kept, compressed, for every reader (views_spaces.py).
REACT_FORM = "reactions-form"


@dataclass
class Chip:
    kind: str
    emoji: str
    name: str
    count: int
    mine: bool


@dataclass
class PostRow:
    post: Post
    chips: list[Chip]
    is_opening: bool
    can_edit: bool
    can_accept: bool


def escape(value: object) -> str:
    """HTML-escape like Django's ``escape`` (quotes included), without the SafeString wrapper."""
    return _escape(str(value), quote=True)


def _url_for(name: str) -> Callable[[int | str], str]:
    """A function from an id (or slug) to the URL `name` gives for it: one reverse() per page,
    not per post. Ids are numbers and slugs are [-a-zA-Z0-9_], so neither needs quoting."""
    head, tail = reverse(name, args=[_SENTINEL]).split(str(_SENTINEL))
    return lambda key: f"{head}{key}{tail}"


@dataclass
class Urls:
    member: Callable[[int | str], str]
    post_link: Callable[[int | str], str]
    history: Callable[[int | str], str]
    react: Callable[[int | str], str]
    edit: Callable[[int | str], str]
    accept: Callable[[int | str], str]

    @classmethod
    def build(cls) -> Urls:
        return cls(
            member=_url_for("web:member_detail"),
            post_link=_url_for("web:post_link"),
            history=_url_for("web:post_history"),
            react=_url_for("web:post_react"),
            edit=_url_for("web:post_edit"),
            accept=_url_for("web:post_accept"),
        )


def _when(value: datetime, months: dict[int, str]) -> tuple[str, str]:
    """The ``datetime`` attribute and the text of the template's ``date:"j M Y, H:i"``
    (the month's short name, translated, looked up once per page in `months`)."""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    month = months.get(local.month)
    if month is None:
        month = months[local.month] = str(MONTHS_3[local.month]).title()
    return local.isoformat(), f"{local.day} {month} {local.year}, {local.hour:02d}:{local.minute:02d}"


def render_posts(
    rows: list[PostRow],
    *,
    accepted_post_id: int | None,
    locked: bool,
    logged_in: bool,
    page_number: int,
    csrf_token: str,
) -> SafeString:
    """The ``<article>`` of every row, joined."""
    parts = render_post_list(
        rows,
        accepted_post_id=accepted_post_id,
        locked=locked,
        logged_in=logged_in,
        page_number=page_number,
        csrf_token=csrf_token,
    )
    return mark_safe("".join(parts))  # noqa: S308  # every interpolated value is escaped or sanitised HTML


def render_post_list(
    rows: list[PostRow],
    *,
    accepted_post_id: int | None,
    locked: bool,
    logged_in: bool,
    page_number: int,
    csrf_token: str,
) -> list[str]:
    """The ``<article>`` of every row, one string each (escaped, but not marked safe)."""
    urls = Urls.build()
    csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">' if logged_in else ""
    reply_query = f"page={page_number}&amp;" if page_number > 1 else ""
    months: dict[int, str] = {}
    out: list[str] = []
    for row in rows:
        p = row.post
        pk = p.pk
        author = p.author
        name = escape(author.name)
        initial = escape(author.name[:1].upper())
        accepted = pk == accepted_post_id
        classes = "post card" + (" accepted" if accepted else "") + (" opening" if row.is_opening else "")
        if logged_in:
            who = f'<a class="strong" href="{urls.member(p.author_id)}">{name}</a>'
        else:
            who = f'<span class="strong">{name}</span>'
        staff = '<span class="badge staff" title="Works for us">Staff</span>' if p.by_staff else ""
        iso, shown = _when(p.created_at, months)
        edited = f' · <a href="{urls.history(pk)}" title="See earlier versions">edited</a>' if p.edited_at else ""
        parent = ""
        if p.parent_id:
            parent_name = escape(p.parent.author.name) if p.parent is not None else ""
            parent = f' · in reply to <a href="{urls.post_link(p.parent_id)}">{parent_name}</a>'
        accepted_badge = '<span class="badge badge-ok">✓ Accepted answer</span>' if accepted else ""
        chips = row.chips
        if logged_in:
            # The buttons submit the page's one reactions form (REACT_FORM, with the token)
            # to this post's address; the reaction then comes back to the post (post_url).
            react = urls.react(pk)
            buttons = "".join(
                f'<button form="{REACT_FORM}" formaction="{react}" name="kind" '
                f'value="{c.kind}" class="chip{" mine" if c.mine else ""}" '
                f'aria-pressed="{"true" if c.mine else "false"}"><span aria-hidden="true">{c.emoji}</span> '
                f"{c.name}{f' <strong>{c.count}</strong>' if c.count else ''}</button>"
                for c in chips
            )
            reactions = f'<span class="reactions">{buttons}</span>'
        else:
            shown_chips = "".join(
                f'<span class="chip"><span aria-hidden="true">{c.emoji}</span> {c.name} '
                f"<strong>{c.count}</strong></span>"
                for c in chips
                if c.count
            )
            reactions = f'<span class="reactions">{shown_chips}</span>'
        actions = ""
        if logged_in and not locked:
            actions += f'<a class="btn btn-small btn-ghost" href="?{reply_query}reply_to={pk}#reply">Reply to this</a>'
        if row.can_edit:
            actions += f'<a class="btn btn-small btn-ghost" href="{urls.edit(pk)}">Edit</a>'
        if row.can_accept:
            actions += (
                f'<form method="post" action="{urls.accept(pk)}" class="inline">{csrf}'
                f'<button class="btn btn-small" type="submit">Accept as answer</button></form>'
            )
        if p.state != "published":
            # Nobody else can see it: no replies to it, no reactions, only the edit.
            reactions = ""
            actions = f'<a class="btn btn-small btn-ghost" href="{urls.edit(pk)}">Edit</a>' if row.can_edit else ""
            # Only its author and the space's moderators get this far (the selectors filter).
            label = "Held for review" if p.state == "held" else "Rejected"
            accepted_badge += f' <span class="badge badge-warn held-badge">{label}: not published</span>'
        out.append(
            f'<article class="{classes}" id="post-{pk}">\n'
            f'  <header class="post-head">\n'
            f'    <span class="avatar avatar-small" aria-hidden="true">{initial}</span>\n'
            f'    <span class="post-meta">{who}{" " + staff if staff else ""}\n'
            f'      <span class="muted small">· <a class="muted" href="{urls.post_link(pk)}">'
            f'<time datetime="{iso}">{shown}</time></a>{edited}{parent}</span>\n'
            f"    </span>\n"
            f"    {accepted_badge}\n"
            f"  </header>\n"
            f'  <div class="post-body prose">{p.html}</div>\n'
            f'  <footer class="post-foot">\n'
            f"    {reactions}\n"
            f'    <span class="post-actions">{actions}</span>\n'
            f"  </footer>\n"
            f"</article>\n"
        )
    return out


# --- one page of posts for every logged-in reader, made each one's own --------------------------
# A logged-in reader who neither moderates the space nor may accept answers in the thread,
# and who has nothing held in it, sees the published posts; what differs from one such
# reader to the next is only their CSRF token, which reactions are theirs (pressed chips) and
# Edit on their own posts. So the posts are rendered once for "any reader" (no reactions of
# theirs, no Edit, CSRF_SLOT for the token), kept (views_spaces.py, pagecache.py), and made
# each reader's by `personalise` and a replace of the slot: the same HTML render_posts writes
# for them (tests compare the two).

CSRF_SLOT = "\x00csrf\x00"
_FOOT = '<footer class="post-foot">'
_ACTIONS_END = "</span>\n  </footer>"


def personalise(segment: str, *, mine: Iterable[str], edit_url: str | None) -> str:
    """One post from render_post_list for "any reader" as a reader sees it who reacted with
    the kinds `mine` and who may edit it (`edit_url`)."""
    head, sep, foot = segment.rpartition(_FOOT)
    for kind in mine:
        foot = foot.replace(
            f'value="{kind}" class="chip" aria-pressed="false"',
            f'value="{kind}" class="chip mine" aria-pressed="true"',
            1,
        )
    if edit_url is not None:
        before, end, after = foot.rpartition(_ACTIONS_END)
        foot = f'{before}<a class="btn btn-small btn-ghost" href="{edit_url}">Edit</a>{end}{after}'
    return head + sep + foot
