"""Markdown for posts: CommonMark with raw HTML switched off, then sanitised by nh3.

Two layers on purpose: markdown-it escapes any HTML in the source, and nh3 removes
anything that is not on the allow-list from the output (``javascript:`` links included),
so a bug in one layer does not let a script through.
"""

from __future__ import annotations

import re
from html import unescape

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

MENTION_RE = re.compile(r"(?<![\w@/.])@([a-z0-9][a-z0-9_.-]{1,59})", re.IGNORECASE)

_TAGS = {
    "a", "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "img",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
}


def mentioned_handles(text: str) -> list[str]:
    """The @handles in `text`, lower-cased, in order, without repeats; none inside code."""
    plain = re.sub(r"```.*?```|`[^`]*`", " ", text, flags=re.DOTALL)
    seen: dict[str, None] = {}
    for m in MENTION_RE.finditer(plain):
        seen.setdefault(m.group(1).lower().rstrip("."), None)
    return list(seen)


def render(text: str, *, mention_urls: dict[str, str] | None = None) -> str:
    """Markdown to safe HTML. Known @handles in `mention_urls` become links to profiles."""
    html = _md.render(text)
    if mention_urls:

        def link(m: re.Match[str]) -> str:
            handle = m.group(1).lower().rstrip(".")
            url = mention_urls.get(handle)
            return f'<a class="mention" href="{url}">@{handle}</a>' if url else m.group(0)

        # Only in text, never inside tags or code: split on tags and code blocks.
        parts = re.split(r"(<pre>.*?</pre>|<code>.*?</code>|<[^>]+>)", html, flags=re.DOTALL)
        html = "".join(p if p.startswith("<") else MENTION_RE.sub(link, p) for p in parts)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener ugc",
    )


def plain_text(html: str) -> str:
    """The words of rendered post HTML, for the search index and snippets."""
    text = re.sub(r"<(br|/p|/li|/h[1-6]|/blockquote|/pre|/tr)\s*/?>", "\n", html)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"[ \t]+", " ", unescape(text)).strip()
