"""The search page's parts written in Python (convenor/web/search_html.py) match what
Django's widgets would write."""

from __future__ import annotations

import pytest

from convenor.web.forms_spaces import SearchForm
from convenor.web.search_html import render_space_select

SPACES = [(3, "Tom & Jerry's <space>"), (4, "Users lounge"), (12, "Acme")]


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"q": "kafka"},
        {"q": "kafka", "space": "4"},
        {"q": "kafka", "space": "12", "page": "2"},
        {"q": "kafka", "space": "99"},  # not one of the viewer's spaces: invalid
        {"q": "kafka", "space": "nope"},
        {"q": "kafka", "space": "3", "page": "-1"},  # another field invalid, the space kept
    ],
)
def test_space_menu_is_the_select_widget(data: dict[str, str] | None) -> None:
    form = SearchForm(data, spaces=SPACES)
    form.is_valid()
    assert render_space_select(form["space"]) == str(form["space"])
