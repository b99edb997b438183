"""The URL patterns are tried in order (convenor/urls.py and web/urls.py put the pages read
most first): that order must change nothing but the time to resolve, so no pattern may
take another's addresses."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from convenor.web import urls as web_urls

SAMPLES = {
    "int": 7,
    "slug": "a-slug",
    "string": "a-token",
    "path": "a/b",
    "uuid": "12345678-1234-5678-1234-567812345678",
}


def test_every_web_page_resolves_to_itself_whatever_the_order() -> None:
    checked = 0
    for pattern in web_urls.urlpatterns:
        assert isinstance(pattern, URLPattern) and pattern.name
        converters = pattern.pattern.converters
        kwargs = {
            name: SAMPLES[type(conv).__name__.removesuffix("Converter").lower()] for name, conv in converters.items()
        }
        url = reverse(f"web:{pattern.name}", kwargs=kwargs)
        assert resolve(url).view_name == f"web:{pattern.name}", url
        checked += 1
    assert checked > 40


def test_no_web_page_lies_under_another_parts_prefix() -> None:
    root = get_resolver().url_patterns
    assert isinstance(root[0], URLResolver) and str(root[0].pattern) == ""  # the web pages come first
    prefixes = [str(p.pattern) for p in root[1:]]
    assert "admin/" in prefixes and "api/v1/" in prefixes
    for pattern in web_urls.urlpatterns:
        route = str(pattern.pattern)
        assert not any(route.startswith(prefix) for prefix in prefixes), route
