"""Forms of the feedback pages: boards, ideas, votes, comments, statuses, merges, demand filters."""

from __future__ import annotations

from typing import Any

from django import forms

from convenor.feedback.models import BoardVisibility, IdeaStatus, Importance
from convenor.feedback.services import MAX_TITLE_CHARS
from convenor.people.models import Role


def _blank(label: str, choices: Any) -> list[tuple[Any, str]]:
    return [("", label), *list(choices)]


class BoardForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    visibility = forms.ChoiceField(choices=BoardVisibility.choices, initial=BoardVisibility.MEMBERS)
    organization = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Customer (account boards only)"
    )

    def __init__(self, *args: Any, organizations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = _blank("—", organizations)  # type: ignore[attr-defined]  # a ChoiceField


class IdeaFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", widget=forms.TextInput(attrs={"type": "search"}))
    sort = forms.ChoiceField(
        required=False, choices=[("top", "Top"), ("new", "New"), ("trending", "Trending")], initial="top"
    )
    status = forms.ChoiceField(required=False, choices=_blank("Any status", IdeaStatus.choices))


class IdeaForm(forms.Form):
    title = forms.CharField(max_length=MAX_TITLE_CHARS, strip=True)
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), help_text="What would it let you do, and why?"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The service says what is wrong with an empty title; the browser must not stop it first.
        self.fields["title"].required = False


class VoteForm(forms.Form):
    importance = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=_blank("How important is this to you?", Importance.choices),
        label="Importance",
    )


class CommentForm(forms.Form):
    body = forms.CharField(label="Comment", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=IdeaStatus.choices)
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Sent to voters and followers and posted in the conversations it came from.",
    )


class MergeForm(forms.Form):
    target = forms.IntegerField(label="Merge into idea number", min_value=1)


class FromPostForm(forms.Form):
    board = forms.ChoiceField()
    title = forms.CharField(max_length=MAX_TITLE_CHARS, required=False)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args: Any, boards: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["board"].choices = boards  # type: ignore[attr-defined]  # a ChoiceField


class LinkPostForm(forms.Form):
    idea = forms.IntegerField(label="Idea", min_value=1)


class DemandFilterForm(forms.Form):
    role = forms.ChoiceField(required=False, choices=_blank("Any role", Role.choices))
    organization = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Organisation")
    segment = forms.ChoiceField(required=False)
    group = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Hot group")
    account = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Private account")
    board = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(required=False, choices=_blank("Any status", IdeaStatus.choices))

    def __init__(
        self,
        *args: Any,
        organizations: list[tuple[int, str]],
        segments: list[str],
        groups: list[tuple[int, str]],
        accounts: list[tuple[int, str]],
        boards: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        f = self.fields
        f["organization"].choices = _blank("Any organisation", organizations)  # type: ignore[attr-defined]  # ChoiceField
        f["segment"].choices = _blank("Any segment", [(s, s) for s in segments])  # type: ignore[attr-defined]  # ChoiceField
        f["group"].choices = _blank("Any group", groups)  # type: ignore[attr-defined]  # ChoiceField
        f["account"].choices = _blank("Any account", accounts)  # type: ignore[attr-defined]  # ChoiceField
        f["board"].choices = _blank("Every board", boards)  # type: ignore[attr-defined]  # ChoiceField
