"""Pages sent gzip-compressed, assembled from parts compressed once.

The pages kept for readers (views_spaces.py: a thread page's posts and the page around them,
the space page) are the same for every reader but for a few small things of theirs. Every
browser asks for gzip, and compressed, a thread page of 100 posts is some 20 KB instead of
180 KB; but compressing it for each reader would cost more than building it. So the kept
parts are compressed once, when they are kept (``deflate``), and a reader's page is their
compressed parts with the reader's own bytes between them (``join``): a valid gzip stream
without compressing the page again.

How: each kept part is compressed on its own into raw deflate blocks ended by a sync flush,
so it ends on a byte boundary and refers to nothing before it; such block runs may follow one
another in one stream. A reader's own bytes go in as stored (uncompressed) blocks, or, when
they are long, compressed there and then at the fastest level. A final empty block, the CRC-32
of the whole text and its length end the stream (RFC 1951 and 1952).

Pages that hold a secret compressed next to text an attacker chooses can leak it (BREACH):
the only secret on these pages, the CSRF token, is masked afresh for each response (Django's
``get_token``), which is Django's own defence for that.
"""

from __future__ import annotations

import re
import struct
import zlib
from array import array
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

# Magic, deflate, no flags, no time, no extra flags, OS unknown.
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
# A final, empty block with the fixed codes: what ends a run of sync-flushed blocks.
_LAST_BLOCK = b"\x03\x00"
# A reader's own bytes up to this length go in stored (at most 65,535 in one block); longer
# ones are compressed for the page.
FRESH_STORED_MAX = 2048
# As Django's GZipMiddleware reads Accept-Encoding.
_ACCEPTS = re.compile(r"\bgzip\b")


class Deflated(NamedTuple):
    """A kept part: its text and the same text as raw deflate blocks (see above), and for a
    long text its CRC-32 and what its length does to a CRC before it (``_crc_after``)."""

    plain: bytes
    data: bytes
    crc: int = 0
    shift: array[int] | None = None


# From this length on, a kept part's CRC is worked out once, when it is kept (see _crc_after).
CRC_KEPT_MIN = 4096


def deflate(plain: bytes, level: int = 6) -> Deflated:
    """`plain` compressed on its own, to be joined with other parts (level 6: gzip's own)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return _kept(plain, compressor.compress(plain) + compressor.flush(zlib.Z_SYNC_FLUSH))


def _kept(plain: bytes, data: bytes) -> Deflated:
    """A kept part of `plain` as `data`, with its CRC worked out now when it is long."""
    if len(plain) < CRC_KEPT_MIN:
        return Deflated(plain, data)
    return Deflated(plain, data, zlib.crc32(plain), _shift_table(len(plain)))


def concat(parts: Sequence[Deflated]) -> Deflated:
    """Kept parts that always go together, as one kept part: their blocks one after the other
    (each run ends on a byte boundary, see above), so a page made of them carries its CRC
    over them at once."""
    return _kept(b"".join(p.plain for p in parts), b"".join(p.data for p in parts))


# The CRC of a page is over all its text, the reader's bytes between the kept parts included,
# so it cannot be kept whole; worked out for every request it was a tenth of a logged-in thread
# page's time (180 KB). But zlib's CRC-32 is affine in the CRC it starts from: for a text B of
# length n, crc32(B, c) == M_n(c) ^ crc32(B, 0), where M_n is linear over GF(2) and depends
# only on n (M_n(c) == crc32(n zero bytes, c) ^ crc32(n zero bytes, 0); zlib's crc32_combine
# rests on the same). So a long kept part keeps crc32(B, 0) and M_n as four tables of 256
# values, one per byte of c: carrying a CRC over it is four look-ups, not a pass over its text.


def _shift_table(n: int) -> array[int]:
    """M_n (see above) as 4 x 256 values: entry 256*j + v is M_n(v << 8*j)."""
    zeros = bytes(n)
    base = zlib.crc32(zeros, 0)
    basis = [zlib.crc32(zeros, 1 << i) ^ base for i in range(32)]
    table = array("I", bytes(4 * 1024))
    for j in range(4):
        offset = 256 * j
        for v in range(1, 256):
            low = v & -v  # M_n is linear: M(v) = M(v without its lowest bit) ^ M(that bit)
            table[offset + v] = table[offset + (v ^ low)] ^ basis[8 * j + low.bit_length() - 1]
    return table


def _crc_after(part: Deflated, crc: int) -> int:
    """zlib.crc32(part.plain, crc), from what was kept with the part."""
    shift = part.shift
    if shift is None:
        return _crc32(part.plain, crc)
    return (
        shift[crc & 0xFF]
        ^ shift[256 + ((crc >> 8) & 0xFF)]
        ^ shift[512 + ((crc >> 16) & 0xFF)]
        ^ shift[768 + (crc >> 24)]
        ^ part.crc
    )


def _fresh(plain: bytes) -> bytes:
    """A reader's own bytes as deflate blocks: stored when short, else compressed at once."""
    if len(plain) > FRESH_STORED_MAX:
        return deflate(plain, level=1).data
    # A stored block: its 3 header bits (not final, type 00) padded to a byte, then the
    # length and its complement, then the bytes themselves.
    return b"\x00" + struct.pack("<HH", len(plain), len(plain) ^ 0xFFFF) + plain


Part = bytes | Deflated


def join(parts: Iterable[Part]) -> bytes:
    """The gzip stream of the parts' texts one after the other."""
    out = [_HEADER]
    crc = 0
    size = 0
    for part in parts:
        if isinstance(part, Deflated):
            out.append(part.data)
            crc = _crc_after(part, crc)
            size += len(part.plain)
        elif part:
            out.append(_fresh(part))
            crc = _crc32(part, crc)
            size += len(part)
    out.append(_LAST_BLOCK)
    out.append(struct.pack("<II", crc, size & 0xFFFFFFFF))
    return b"".join(out)


# zlib.crc32 lets go of Python's lock for more than 5 KiB, and in a threaded server every time
# it does, the thread must wait its turn to take it back: fed in pieces of at most this, the
# CRC of a page never lets go (a kept thread page made twenty such hand-overs per request).
_CRC_PIECE = 5 * 1024


def _crc32(data: bytes, crc: int) -> int:
    if len(data) <= _CRC_PIECE:
        return zlib.crc32(data, crc)
    view = memoryview(data)
    for start in range(0, len(data), _CRC_PIECE):
        crc = zlib.crc32(view[start : start + _CRC_PIECE], crc)
    return crc


def plain(parts: Iterable[Part]) -> bytes:
    """The parts' texts joined, for a client that does not take gzip."""
    return b"".join(p.plain if isinstance(p, Deflated) else p for p in parts)


def accepts(request: HttpRequest) -> bool:
    """Whether the client takes a gzip-compressed response."""
    return bool(_ACCEPTS.search(request.META.get("HTTP_ACCEPT_ENCODING", "")))


def response(request: HttpRequest, parts: Sequence[Part]) -> HttpResponse:
    """An HTML page made of `parts`: compressed when the client takes gzip."""
    if accepts(request):
        out = HttpResponse(join(parts))
        out["Content-Encoding"] = "gzip"
    else:
        out = HttpResponse(plain(parts))
    patch_vary_headers(out, ("Accept-Encoding",))
    return out
