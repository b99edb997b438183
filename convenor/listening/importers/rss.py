"""RSS 2.0 and Atom feeds (feedparser): posts, and comments where the feed has them.

Comments come two ways: Atom threading (RFC 4685: an entry with ``thr:in-reply-to``) in
the same feed, and RSS 2.0 comment feeds (``wfw:commentRss``), which are fetched when the
feed itself came from a URL. The XML is first checked with defusedxml, so an entity bomb
or malformed XML is refused before feedparser (which is lenient) sees it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from xml.etree.ElementTree import ParseError

import feedparser
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from convenor.core.errors import ApplicationError
from convenor.listening.importers.base import (
    Author,
    Item,
    Parsed,
    Parser,
    Progress,
    Reject,
    bad_file,
    check_document_size,
    clip,
    digest,
    fit_id,
    html_to_text,
    parse_when,
)

MAX_COMMENT_FEEDS = 100


# A DOCTYPE naming an external DTD (`<!DOCTYPE rss SYSTEM "http://...">`, or PUBLIC), as
# Netscape's RSS 0.91 feeds and some old blog engines write it, before the root element.
_EXTERNAL_DTD = re.compile(rb"<!DOCTYPE\s+[^\s>\[]+\s+(?:SYSTEM|PUBLIC)\s")
_ROOT = re.compile(rb"<[A-Za-z_]")
# A reference to a named entity other than XML's own five.
_NAMED_ENTITY = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos);)[A-Za-z_][\w.-]*;")


def declares_external_dtd(data: bytes) -> bool:
    root = _ROOT.search(data)
    return bool(_EXTERNAL_DTD.search(data, 0, root.start() if root else len(data)))


def check_xml(data: bytes, filename: str) -> None:
    """Refuse entity declarations (XML bombs), external references and malformed XML.

    A feed that declares an external DTD may use the entities that DTD defines (`&eacute;`
    in an RSS 0.91 feed). The DTD is never fetched, so those references are left for
    feedparser, which knows HTML's entities; the rest of the document is still checked."""
    check_document_size(filename, len(data))
    try:
        _defused(data, filename)
    except ApplicationError as exc:
        if not ("undefined entity" in exc.message and declares_external_dtd(data)):
            raise
        # The same length, so a line and column reported from here are the file's own.
        _defused(_NAMED_ENTITY.sub(lambda m: b"x" * len(m.group()), data), filename)


def _defused(data: bytes, filename: str) -> None:
    try:
        fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise bad_file(
            filename,
            f"refused: the XML declares entities or external references ({type(exc).__name__}), as XML bombs do",
        ) from None
    except ParseError as exc:
        line, column = exc.position
        reason = re.sub(r": line \d+, column \d+$", "", str(exc))
        if "invalid token" in reason:
            reason += " (is the file in the encoding it declares?)"
        raise bad_file(filename, f"malformed XML at line {line}, column {column + 1}: {reason}") from None


def _text(entry: Any) -> str:
    content = entry.get("content") or []
    if content:
        return html_to_text(str(content[0].get("value", "")))
    return html_to_text(str(entry.get("summary", "")))


def _author(entry: Any, fallback: Any) -> Author:
    detail = entry.get("author_detail") or fallback or {}
    name = str(detail.get("name") or entry.get("author") or "").strip()
    email = str(detail.get("email") or "").strip().lower()
    href = str(detail.get("href") or "").strip()
    key = email or href or name.lower()
    return Author(key=key, name=name, email=email)


class RssParser(Parser):
    def __init__(
        self,
        data: bytes,
        filename: str,
        *,
        fetch_comments: Callable[[str], bytes | None] | None = None,
    ) -> None:
        check_xml(data, filename)
        self.filename = filename
        feed = feedparser.parse(data)
        if not feed.get("version"):
            raise bad_file(filename, "not an RSS or Atom feed (no <rss>, <feed> or <rdf:RDF> root)")
        self.feed = feed
        self.entries = list(feed.entries)
        self.fetch_comments = fetch_comments
        self.total = len(self.entries)
        self.space = clip(str(feed.feed.get("title") or filename), 200)

    def _item(self, entry: Any, number: int, filename: str, *, parent: str = "", thread: str = "") -> Parsed:
        origin = str(entry.get("id") or entry.get("link") or "")
        title = str(entry.get("title") or "")
        when_raw = entry.get("published") or entry.get("updated") or entry.get("created")
        if not origin:
            origin = digest(title, str(when_raw))
        try:
            when = parse_when(when_raw)
        except ValueError as exc:
            return Reject(filename, f"entry {number}", f"{exc} (entry {origin[:80]!r})")
        author = _author(entry, self.feed.feed.get("author_detail"))
        if not author.key:
            return Reject(filename, f"entry {number}", f"no author (entry {origin[:80]!r})")
        reply_to = entry.get("thr_in-reply-to") or {}
        if not parent and reply_to.get("ref"):
            parent = str(reply_to["ref"])
            thread = parent
        return Item(
            origin_id=fit_id(origin),
            kind="reply" if parent else "post",
            author=author,
            occurred_at=when,
            text=_text(entry),
            title=clip(html_to_text(title), 500),
            url=clip(str(entry.get("link") or ""), 1000),
            space=self.space,
            parent_origin=fit_id(parent),
            thread_origin=fit_id(thread or origin),
        )

    def records(self, progress: Progress) -> Iterator[Parsed]:
        comment_feeds = 0
        for number, entry in enumerate(self.entries, start=1):
            item = self._item(entry, number, self.filename)
            yield item
            progress(number, self.total)
            comments_url = entry.get("wfw_commentrss")
            if not (isinstance(item, Item) and comments_url and self.fetch_comments):
                continue
            if comment_feeds >= MAX_COMMENT_FEEDS:
                continue
            comment_feeds += 1
            yield from self._comments(str(comments_url), item)

    def _comments(self, url: str, post: Item) -> Iterator[Parsed]:
        assert self.fetch_comments is not None
        try:
            data = self.fetch_comments(url)
            if data is None:
                return
            check_xml(data, url)
        except Exception as exc:  # one bad comment feed is one rejection, not a failed run
            yield Reject(url, "whole feed", getattr(exc, "message", str(exc)))
            return
        feed = feedparser.parse(data)
        for number, entry in enumerate(feed.entries, start=1):
            yield self._item(entry, number, url, parent=post.origin_id, thread=post.origin_id)
