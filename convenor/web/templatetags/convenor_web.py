"""Small template helpers for the web pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_url(context: dict[str, Any], number: int, param: str = "page") -> str:
    """The current URL's query string with page `param` set to `number`, other filters kept."""
    query = context["request"].GET.copy()
    query[param] = str(number)
    return "?" + str(query.urlencode())
