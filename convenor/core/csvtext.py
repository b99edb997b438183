"""CSV text checks shared by the importers (members, relationships, reviews)."""

from __future__ import annotations

import re

# A double quote where a field starts (after a comma or a line break, or at the start),
# the only place where the csv module's default dialect reads one as opening a quoted field.
_OPENING_QUOTE = re.compile(r'(?<![^,\r\n])"')


def unclosed_quote(text: str) -> tuple[int, int | None] | None:
    """Where `text` (CSV, as the csv module's default dialect reads it) has a quote that is
    never closed: (offset of the opening quote, offset where the field is taken to end, or
    None when it runs to the end), else None.

    A quote is taken as never closed when its field runs to the end of the text, or when
    it spans lines and its closing quote is followed by neither a comma nor a line end: that
    quote is another field's opening one, and everything between was swallowed."""
    pos = 0
    while match := _OPENING_QUOTE.search(text, pos):
        opened = i = match.start() + 1
        while True:
            close = text.find('"', i)
            if close < 0:
                return opened - 1, None
            if not text.startswith('""', close):
                break
            i = close + 2  # an escaped quote inside the field
        if text[close + 1 : close + 2] not in ("", ",", "\r", "\n") and any(c in text[opened:close] for c in "\r\n"):
            return opened - 1, close
        pos = close + 1
    return None
