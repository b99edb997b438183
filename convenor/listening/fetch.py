"""Fetching a source over HTTP: a timeout, a size limit, and conditional requests (the
ETag and Last-Modified of the last fetch are sent back, so an unchanged feed costs a 304)."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from convenor.core.errors import ApplicationError, ErrorCode
from convenor.listening.importers.base import too_large

USER_AGENT = "Convenor-listening/1.0 (+https://github.com/convenor)"


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int  # 200, or 304 when unchanged since the validators sent
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""


def check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ApplicationError(
            ErrorCode.VALIDATION,
            f"{url!r} is not an http(s) URL",
            fields={"url": ["must start with http:// or https://"]},
        )
    return url.strip()


def fetch(url: str, *, etag: str = "", last_modified: str = "", accept: str = "*/*") -> Fetched:
    """GET `url`. Raises ApplicationError(BAD_FILE) for network errors and HTTP errors,
    TOO_LARGE past settings.LISTENING_MAX_FETCH_BYTES (checked while reading, not only from
    Content-Length, which a server may leave out or get wrong)."""
    url = check_url(url)
    headers = {"User-Agent": USER_AGENT, "Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    limit = settings.LISTENING_MAX_FETCH_BYTES
    request = urllib.request.Request(url, headers=headers)  # noqa: S310  # scheme checked above
    try:
        with urllib.request.urlopen(request, timeout=settings.LISTENING_FETCH_TIMEOUT) as response:  # noqa: S310
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise too_large(url, int(declared), limit)
            body = response.read(limit + 1)
            if len(body) > limit:
                raise too_large(url, len(body), limit)
            return Fetched(
                url=url,
                status=response.status,
                body=body,
                etag=response.headers.get("ETag", "") or "",
                last_modified=response.headers.get("Last-Modified", "") or "",
            )
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return Fetched(url=url, status=304, etag=etag, last_modified=last_modified)
        raise ApplicationError(ErrorCode.BAD_FILE, f"{url}: the server answered HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise ApplicationError(ErrorCode.BAD_FILE, f"{url}: could not fetch ({exc.reason})") from None
    except TimeoutError:
        raise ApplicationError(
            ErrorCode.BAD_FILE, f"{url}: no answer within {settings.LISTENING_FETCH_TIMEOUT} seconds"
        ) from None
    except OSError as exc:
        raise ApplicationError(ErrorCode.BAD_FILE, f"{url}: could not fetch ({exc})") from None
