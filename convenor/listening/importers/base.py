"""What every importer parses into: typed records, rejections, and the errors for files
that cannot be read at all. Parsing is pure (no database); the pipeline writes."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dateutil import parser as dateparser
from django.conf import settings

from convenor.core.errors import ApplicationError, ErrorCode

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Author:
    """Who wrote something, as the source knows them. `key` is their id in the source."""

    key: str
    name: str = ""
    email: str = ""
    handle: str = ""


@dataclass(slots=True)
class Item:
    """One thing said: a post, reply, chat message, mail or review."""

    origin_id: str
    kind: str  # PostKind value
    author: Author
    occurred_at: datetime
    text: str = ""
    title: str = ""
    url: str = ""
    space: str = ""
    thread_origin: str = ""
    parent_origin: str = ""
    rating: float | None = None
    # (reactor, reaction name)
    reactions: list[tuple[Author, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Reject:
    """A record that cannot be imported: which file, where in it, and why."""

    file: str
    position: str
    reason: str


@dataclass(frozen=True, slots=True)
class Skip:
    """A record deliberately left out (a join notice, a bot); counted, not reported."""


Parsed = Item | Reject | Skip


class Parser:
    """A parsed source: `total` records (0 if unknown ahead) and an iterator over them.

    Opening a parser checks everything that would make the whole file unreadable, so a
    file that fails there writes nothing."""

    total: int = 0

    def records(self, progress: Progress) -> Iterator[Parsed]:
        raise NotImplementedError


def bad_file(filename: str, reason: str) -> ApplicationError:
    return ApplicationError(ErrorCode.BAD_FILE, f"{filename}: {reason}")


def too_large(filename: str, size: int, limit: int) -> ApplicationError:
    return ApplicationError(
        ErrorCode.TOO_LARGE,
        f"{filename}: {size:,} bytes is more than the limit of {limit:,} bytes",
    )


def check_document_size(filename: str, size: int) -> None:
    limit = settings.LISTENING_MAX_DOCUMENT_BYTES
    if size > limit:
        raise too_large(filename, size, limit)


def decode_text(data: bytes, filename: str) -> str:
    """UTF-8 (with or without a byte-order mark); anything else is a clear error."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise bad_file(filename, "the file is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise bad_file(
            filename, f"not UTF-8 text: byte {exc.start} (line {line}) is {data[exc.start : exc.start + 1]!r}"
        ) from None


_DIGITS = re.compile(r"^-?\d+(\.\d+)?$")
_COMPACT_DATE = re.compile(r"^(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")


def parse_when(value: object) -> datetime:
    """A date in any common shape (ISO 8601, RFC 2822, "3 Mar 2026", 20260303, a Unix time
    in seconds or milliseconds) as an aware UTC datetime; naive ones are taken as UTC.
    Raises ValueError with the value."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_timestamp(float(value), str(value))
    if not isinstance(value, str) or not value.strip():
        raise ValueError("missing date")
    text = value.strip()
    if _COMPACT_DATE.match(text):
        # 20260220: a date written without separators, not a Unix time in 1970.
        try:
            return datetime.strptime(text, "%Y%m%d").replace(tzinfo=UTC)
        except ValueError:
            raise ValueError(f"unreadable date {text!r}") from None
    if _DIGITS.match(text):
        return _from_timestamp(float(text), text)
    try:
        when: datetime = dateparser.parse(text)
    except (ValueError, OverflowError, dateparser.ParserError):
        raise ValueError(f"unreadable date {text[:60]!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _from_timestamp(seconds: float, shown: str) -> datetime:
    if abs(seconds) >= 1e11:
        seconds /= 1000  # milliseconds, as JavaScript and many exports write them
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"unreadable date {shown[:60]!r} (a Unix time out of range)") from None


_HIDDEN = re.compile(r"<(style|script|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v]+")


def html_to_text(markup: str) -> str:
    """Plain text from a fragment of HTML (feed entries, Discourse's `cooked`)."""
    text = _TAGS.sub(" ", _HIDDEN.sub(" ", markup).replace("<br>", "\n").replace("</p>", "\n"))
    return "\n".join(_SPACES.sub(" ", line).strip() for line in html.unescape(text).splitlines() if line.strip())


def json_kind(value: object) -> str:
    """A parsed JSON value's kind as JSON names it (a person reads "null", not "NoneType")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def digest(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode(), usedforsecurity=False).hexdigest()[:20]


# The length of the id columns: the activity log's and outside posts' origin ids, their
# thread and parent, and people's identities (external ids) in a source.
ID_LENGTH = 255
_ID_DIGEST = 32  # hex characters of SHA-256 kept: 128 bits, no collision in practice


def fit_id(value: str, length: int = ID_LENGTH) -> str:
    """`value` as an id column of `length` characters holds it: unchanged when it fits,
    else its start followed by "~" and a digest of the whole value. Cutting alone gave two
    long ids sharing their first `length` characters one id, so the second record was taken
    for the first and dropped. The same value always gives the same id (imports rerun)."""
    if len(value) <= length:
        return value
    whole = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:_ID_DIGEST]
    return f"{value[: length - _ID_DIGEST - 1]}~{whole}"


def clip(value: str, length: int) -> str:
    return value if len(value) <= length else value[: length - 1] + "…"
