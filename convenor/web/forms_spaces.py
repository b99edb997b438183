"""Forms for spaces, threads, posts, search and notification settings.

As elsewhere, the forms check shapes and the services check meaning: an empty body, an
oversize post, an unknown @mention or a locked thread come back from the services as
ApplicationError and are put on the form by :func:`convenor.web.forms.add_service_errors`.
"""

from __future__ import annotations

from typing import Any

from django import forms

from convenor.core.models import DigestFrequency
from convenor.spaces.models import Frame, ThreadKind, Visibility

MARKDOWN_HINT = (
    "Markdown: **bold**, *italic*, `code`, [a link](https://example.com), - lists, > quotes. "
    "Mention someone with @handle (it is on their profile); they get a notification."
)


class SpaceForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    # No default on purpose: whoever creates a space decides what it is for.
    frame = forms.ChoiceField(
        choices=Frame.choices,
        widget=forms.RadioSelect,
        help_text="Community spaces forbid selling and start with the charter; commercial spaces welcome offers.",
    )
    visibility = forms.ChoiceField(
        choices=[
            (Visibility.PUBLIC.value, Visibility.PUBLIC.label),
            (Visibility.MEMBERS.value, Visibility.MEMBERS.label),
        ],
        initial=Visibility.MEMBERS,
        help_text="A customer's private space is created from its organisation's page.",
    )


class ThreadForm(forms.Form):
    title = forms.CharField(widget=forms.TextInput(attrs={"maxlength": 200}))
    kind = forms.ChoiceField(choices=ThreadKind.choices, initial=ThreadKind.DISCUSSION, widget=forms.RadioSelect)
    needs_staff = forms.BooleanField(required=False, label="Ask for an answer from staff")
    body = forms.CharField(
        strip=False, widget=forms.Textarea(attrs={"rows": 10}), label="Message", help_text=MARKDOWN_HINT
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        strip=False, widget=forms.Textarea(attrs={"rows": 6}), label="Your reply", help_text=MARKDOWN_HINT
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)


class PostEditForm(forms.Form):
    body = forms.CharField(
        strip=False, widget=forms.Textarea(attrs={"rows": 12}), label="Text", help_text=MARKDOWN_HINT
    )


class InviteForm(forms.Form):
    who = forms.CharField(max_length=254, label="Invite", help_text="Their email address or @handle.")


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=300, label="Search")
    space = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Space")
    author = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, spaces: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["space"].choices = [("", "All spaces"), *[(str(pk), name) for pk, name in spaces]]  # type: ignore[attr-defined]  # ChoiceField has .choices


class NotificationPrefsForm(forms.Form):
    email_each = forms.BooleanField(required=False, label="Email me for each notification")
    digest = forms.ChoiceField(
        choices=DigestFrequency.choices,
        widget=forms.RadioSelect,
        label="Digest of the spaces I follow",
    )
