"""Whole pages for anonymous visitors of public spaces, kept in the cache.

Public spaces are read mostly by people who are not logged in and by search engines, and
every one of them sees the same page. So the thread and space pages, for such a visitor,
are rendered once and kept in Django's cache (settings CACHES: process memory by default,
Redis with CONVENOR_CACHE_URL), under a key made of what the page shows:

- the thread's or space's ``version``, which every write that changes the page bumps
  (reply, edit, reaction, accepted answer, pin, lock, flag: spaces/services.py);
- the row's own fields that appear on the page (title, space name, visibility, frame...);
- for the space page, the upcoming events in its side column (id, version, update time);
- the page number and tab.

Before looking in the cache, one small SQL query reads that key's parts, and finds the
thread or space only if its space is public (what access.visible_spaces lets an anonymous
visitor read), so a space made private stops being served from the cache at once. On a
miss the page is rendered by the usual view, permission gate and all. An entry lives at
most ``TTL`` seconds: that bounds what the version does not cover (a member renamed,
"3 hours ago" ageing, an event that has just ended).

Never cached: a logged-in viewer (their page has their reactions, forms and CSRF tokens),
a space that is not public, a request with messages to show, a request with query
parameters other than the page's own, and anything but GET and HEAD. Logged-in readers get
a page kept for readers alike and made theirs (views_spaces._reader_thread_page and
_reader_space_page), or one of their own built around the posts kept for all readers
(views_spaces._shared_posts), under keys made with `key` too, through `kept_get` and
`kept_set` below.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from convenor.core import access, sql
from convenor.core.memo import Memo
from convenor.spaces.models import Visibility
from convenor.web import gzipped

TTL = 300  # seconds
PREFIX = "convenor:page:"


def for_visitor(request: HttpRequest, params: Iterable[str]) -> bool:
    """Whether this request may be answered from (and stored in) the anonymous page cache:
    a GET by somebody not logged in, with only the page's own parameters, and no message
    waiting for them ("You logged out" belongs in their page only)."""
    if request.method not in ("GET", "HEAD") or access.is_authenticated(request.user):
        return False
    if not set(request.GET).issubset(params):
        return False
    return len(messages.get_messages(request)) == 0  # len() looks without marking them read


def key(kind: str, *parts: object) -> str:
    """The cache key of a `kind` of page for `parts`, what it depends on: a digest of their
    repr. Remembered for hashable parts (tuples, not lists), as the same few are asked for on
    every page view and the repr of a thread's and its space's fields took 8 µs."""
    memo_key = (kind, parts)
    try:
        found = _KEYS.get(memo_key)
    except TypeError:  # unhashable parts: worked out each time
        return _key(kind, parts)
    if found is None:
        found = _key(kind, parts)
        _KEYS.put(memo_key, found)
    return found


def _key(kind: str, parts: tuple[object, ...]) -> str:
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"{PREFIX}{kind}:{digest}"


_KEYS: Memo[tuple[str, tuple[object, ...]], str] = Memo(4096)


# --- parts kept for logged-in readers, also held unpickled in this process ----------------------
# The posts of a thread page and the pages kept for readers alike (views_spaces.py) are read
# on every logged-in view: unpickling 200 KB from Django's cache each time cost as much as
# the rest of the page. So the last LOCAL_ENTRIES of them are also held as they are, in this
# process, each with a random stamp also kept in the cache under its own small key: the
# process's copy is used only while the cache holds the same stamp, so it is never older, nor
# kept longer, than the cache's entry (cleared, expired, culled or replaced alike).

# The visitors' pages (serve, below) are held the same way, in a memo of their own, so that
# visitors reading many threads do not push the logged-in readers' parts out.

LOCAL_ENTRIES = 64
_local: Memo[str, tuple[str, Any]] = Memo(LOCAL_ENTRIES)
_local_visitors: Memo[str, tuple[str, Any]] = Memo(LOCAL_ENTRIES)


def kept_get(cache_key: str, local: Memo[str, tuple[str, Any]] = _local) -> Any:
    """The value kept_set stored under `cache_key`, or None when the cache no longer has it."""
    stamp = cache.get(cache_key + ":stamp")
    if stamp is None:
        return None
    hit = local.get(cache_key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    stored = cache.get(cache_key)
    if stored is None or stored[0] != stamp:
        return None
    local.put(cache_key, (stamp, stored[1]))
    return stored[1]


def kept_set(cache_key: str, value: Any, ttl: int, local: Memo[str, tuple[str, Any]] = _local) -> None:
    """Keep `value` for `ttl` seconds in the cache, and in this process (see above)."""
    stamp = secrets.token_hex(8)
    cache.set(cache_key, (stamp, value), ttl)
    cache.set(cache_key + ":stamp", stamp, ttl)
    local.put(cache_key, (stamp, value))


# One indexed row each, in plain SQL: this runs on every cached page view, where the ORM's
# query building would cost more than the rest of the request. Only public spaces match:
# what an anonymous visitor may read (access.visible_spaces), and nothing else is cached.
# The visibility is written in the SQL, not bound: SQLite prepares a statement again on each
# run when a bound value might choose a partial index (spaces_space has one for 'account').
_THREAD_STAMP = (
    "SELECT t.id, t.version, t.created_at, t.title, t.kind, t.pinned, t.locked, t.needs_staff, "
    "t.accepted_post_id, t.reply_count, t.author_id, s.id, s.slug, s.name, s.frame "
    "FROM spaces_thread t JOIN spaces_space s ON s.id = t.space_id "
    # A held thread is never served from (nor stored in) the cache.
    "WHERE t.id = %s AND s.visibility = 'public' AND t.state = 'published'"
)
_SPACE_STAMP = (
    "SELECT id, version, created_at, slug, name, description, frame, charter, archived_at, thread_count, post_count "
    "FROM spaces_space WHERE slug = %s AND visibility = %s"
)
# Every column of the space's events that have not ended: any change to one changes the key.
_SPACE_EVENTS = "SELECT * FROM events_event WHERE space_id = %s AND ends_at > %s ORDER BY id"


def thread_stamp(thread_id: int) -> tuple[object, ...] | None:
    """What a public thread's page depends on, or None when the thread is not public."""
    row = sql.fetch(_THREAD_STAMP, [thread_id], one=True)
    return tuple(row) if row is not None else None


def space_stamp(slug: str) -> tuple[object, ...] | None:
    """What a public space's page depends on (its row, version and coming events), or None."""
    row = sql.fetch(_SPACE_STAMP, [slug, Visibility.PUBLIC.value], one=True)
    if row is None:
        return None
    events = sql.fetch(_SPACE_EVENTS, [row[0], timezone.now()])
    return (tuple(row), tuple(tuple(e) for e in events))


def serve(request: HttpRequest, cache_key: str, render: Callable[[], HttpResponse], ttl: int = TTL) -> HttpResponse:
    """The cached page under `cache_key`, or `render()`'s, stored when it is a plain 200 that
    holds nothing of this visitor's (no cookie set, no CSRF token used)."""
    hit = kept_get(cache_key, _local_visitors)
    if hit is not None:
        kept, compressed, content_type = hit
        if gzipped.accepts(request):
            response = HttpResponse(compressed)
            response["Content-Encoding"] = "gzip"
        else:
            response = HttpResponse(kept.plain)
        patch_vary_headers(response, ("Accept-Encoding",))
        response["Content-Type"] = content_type
        response["X-Convenor-Cache"] = "hit"
        return response
    response = render()
    personal = bool(response.cookies) or request.META.get("CSRF_COOKIE_NEEDS_UPDATE", False)
    if response.status_code == 200 and not response.streaming and not personal:
        # Kept compressed too (gzipped.py), for the clients that take it (all browsers), as
        # the whole gzip stream: the page is the same for every visitor.
        kept = gzipped.deflate(response.content)
        compressed = gzipped.join([kept])
        kept_set(cache_key, (kept, compressed, response["Content-Type"]), ttl, _local_visitors)
        if gzipped.accepts(request):
            response.content = compressed
            response["Content-Encoding"] = "gzip"
        response["X-Convenor-Cache"] = "miss"
        patch_vary_headers(response, ("Accept-Encoding",))
    return response
