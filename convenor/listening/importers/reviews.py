"""Reviews from reputation aggregators, as CSV or JSON.

Columns (CSV) or keys (JSON objects, in a list or under ``"reviews"``): ``author``,
``rating``, ``title``, ``text``, ``date``, ``url``; optional ``id``, ``email``, ``site``.
A review's id is its ``id``, else its ``url``, else a digest of author, date and title.
Each CSV line is decoded on its own, so a line in the wrong encoding is one rejection.
"""

from __future__ import annotations

import csv
import io
import json
from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

from convenor.core.csvtext import unclosed_quote
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
    decode_text,
    digest,
    fit_id,
    json_kind,
    parse_when,
)

REQUIRED = ("author", "rating", "text", "date")
TEXT_FIELDS = ("id", "author", "email", "rating", "title", "text", "date", "url", "site")


def _rating(raw: object) -> float:
    try:
        value = float(str(raw).strip().split("/")[0])
    except ValueError:
        raise ValueError(f"rating {str(raw)[:20]!r} is not a number") from None
    if not 0 <= value <= 5:
        raise ValueError(f"rating {value:g} is outside 0 to 5")
    return value


def review_item(row: dict[str, Any], space: str) -> Item:
    """One review from its fields. Raises ValueError naming the field at fault."""
    missing = [k for k in REQUIRED if not str(row.get(k) or "").strip()]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    # A JSON review may hold anything: a field read as text must be text (or a number).
    nested = [k for k, v in row.items() if isinstance(v, dict | list) and k in TEXT_FIELDS]
    if nested:
        raise ValueError(f"{', '.join(nested)}: expected text, found {json_kind(row[nested[0]])}")
    author_name = str(row["author"]).strip()
    email = str(row.get("email") or "").strip().lower()
    when = parse_when(row["date"])
    url = str(row.get("url") or "").strip()
    title = str(row.get("title") or "").strip()
    origin = str(row.get("id") or "").strip() or url or digest(author_name, str(row["date"]), title)
    return Item(
        origin_id=fit_id(origin),
        kind="review",
        author=Author(key=email or author_name.lower(), name=author_name, email=email),
        occurred_at=when,
        text=str(row["text"]).strip(),
        title=clip(title, 500),
        url=clip(url, 1000),
        space=clip(str(row.get("site") or space), 200),
        thread_origin=fit_id(origin),
        rating=_rating(row["rating"]),
    )


class ReviewsParser(Parser):
    def __init__(self, data: bytes, filename: str) -> None:
        check_document_size(filename, len(data))
        self.filename = filename
        self.space = filename.rsplit("/", 1)[-1]
        stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
        self.rows: list[tuple[str, dict[str, Any] | None, str]] = []
        if stripped[:1] in (b"[", b"{"):
            self._json(data)
        else:
            self._csv(data)
        self.total = len(self.rows)

    def _json(self, data: bytes) -> None:
        text = decode_text(data, self.filename)
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise bad_file(self.filename, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
        reviews = doc.get("reviews") if isinstance(doc, dict) else doc
        if not isinstance(reviews, list):
            raise bad_file(self.filename, 'expected a list of reviews, or an object with a "reviews" list')
        for number, row in enumerate(reviews, start=1):
            where = f"record {number}"
            if isinstance(row, dict):
                self.rows.append((where, row, ""))
            else:
                self.rows.append((where, None, f"expected an object, found {json_kind(row)}"))

    def _csv(self, data: bytes) -> None:
        lines = data.splitlines(keepends=True)
        if not lines:
            raise bad_file(self.filename, "the file is empty")
        header = decode_text(lines[0], self.filename)
        columns = [c.strip().lower() for c in next(csv.reader([header]), [])]
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise bad_file(
                self.filename, f"line 1: missing column(s) {', '.join(missing)} (found {', '.join(columns) or 'none'})"
            )
        # Quoted fields may span lines: decode line by line, then let csv join them.
        decoded: list[tuple[int, str]] = []
        for number, raw in enumerate(lines[1:], start=2):
            try:
                decoded.append((number, raw.decode("utf-8")))
            except UnicodeDecodeError as exc:
                self.rows.append((f"line {number}", None, f"not UTF-8 text (byte {exc.start} of the line)"))
        body = "".join(t for _, t in decoded)
        self._refuse_unclosed_quote(body, decoded)
        reader = csv.reader(io.StringIO(body))
        # reader.line_num counts the lines it has read; map them back to the file's lines.
        physical = [n for n, _ in decoded] or [2]
        previous = 0
        try:
            for values in reader:
                first = physical[previous] if previous < len(physical) else physical[-1]
                previous = reader.line_num
                if not any(v.strip() for v in values):
                    continue
                where = f"line {first}"
                if len(values) > len(columns):
                    self.rows.append((where, None, f"{len(values)} fields, the header has {len(columns)}"))
                    continue
                self.rows.append((where, dict(zip(columns, values, strict=False)), ""))
        except csv.Error as exc:
            self.rows.append((f"line {physical[min(previous, len(physical) - 1)]}", None, f"unreadable CSV: {exc}"))
        self.rows.sort(key=lambda r: int(r[0].split()[1]))

    def _refuse_unclosed_quote(self, body: str, decoded: list[tuple[int, str]]) -> None:
        """Refuse the whole file when a quote is never closed. The csv module would read
        everything after it, to the end of the file or to another field's quote, as one
        field, and report the lines it swallowed as one record's "missing date" (or take
        them as a title). Raises ApplicationError(BAD_FILE) naming the quote's line."""
        found = unclosed_quote(body)
        if found is None:
            return
        starts = list(accumulate((len(t) for _, t in decoded), initial=0))

        def line_at(offset: int) -> int:
            return decoded[bisect_right(starts, offset) - 1][0]

        opened, ended = found
        runs_on = "the end of the file" if ended is None else f"line {line_at(ended)}"
        raise bad_file(
            self.filename,
            f"malformed CSV: the quote that opens a field on line {line_at(opened)} is never closed, so "
            f"everything up to {runs_on} would be read as that one field (a quote inside a quoted field "
            'is written twice: "")',
        )

    def records(self, progress: Progress) -> Iterator[Parsed]:
        for number, (where, row, problem) in enumerate(self.rows, start=1):
            progress(number, self.total)
            if row is None:
                yield Reject(self.filename, where, problem)
                continue
            try:
                yield review_item(row, self.space)
            except ValueError as exc:
                yield Reject(self.filename, where, str(exc))
