"""Forms that parse what people type; the services decide what is valid in the domain.

Django forms check shapes (a date is a date, a number is a number); the services check
meaning (an email already taken, an end before a start) and raise ApplicationError with
per-field messages, which :func:`add_service_errors` puts back on the form.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from convenor.core.errors import ApplicationError, ErrorCode
from convenor.people.models import Organization, OrgKind, RelationshipKind, Role


def split_list(raw: str) -> list[str]:
    """``"a, b,,c "`` -> ``["a", "b", "c"]``."""
    return [part.strip() for part in raw.split(",") if part.strip()]


def add_service_errors(form: forms.Form, error: ApplicationError) -> None:
    """Show a service's per-field messages next to the matching fields, the rest on top."""
    placed = False
    for name, messages in error.fields.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
            placed = True
    if not placed or error.code != ErrorCode.VALIDATION:
        form.add_error(None, error.message)


class DateInput(forms.DateInput):
    input_type = "date"


def _blank_choice(label: str, choices: Any) -> list[tuple[str, str]]:
    return [("", label), *[(str(value), str(text)) for value, text in choices]]


class MemberFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=200)
    role = forms.ChoiceField(required=False, choices=_blank_choice("Any role", Role.choices))
    organization = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Organisation")
    interest = forms.ChoiceField(required=False)

    def __init__(
        self,
        *args: Any,
        organizations: list[tuple[int, str]],
        interests: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = _blank_choice("Any organisation", organizations)  # type: ignore[attr-defined]  # ChoiceField has .choices
        self.fields["interest"].choices = _blank_choice("Any interest", interests)  # type: ignore[attr-defined]  # ChoiceField has .choices


class OrganizationFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=200)
    kind = forms.ChoiceField(required=False, choices=_blank_choice("Any kind", OrgKind.choices))


class MemberForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=Role.choices)
    title = forms.CharField(required=False, max_length=200)
    location = forms.CharField(required=False, max_length=200)
    bio = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    interests = forms.CharField(
        required=False, help_text="Separate interests with commas, for example: data pipelines, security"
    )
    consent_to_contact = forms.BooleanField(required=False, label="Agrees to be contacted")
    listed = forms.BooleanField(required=False, label="Listed in the community directory")
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        label="Organisation",
        help_text="Optional: a current place at this organisation, with the title above.",
    )

    def __init__(
        self,
        *args: Any,
        organizations: QuerySet[Organization] | None = None,
        may_set_role: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if organizations is None:
            del self.fields["organization"]
        else:
            self.fields["organization"].queryset = organizations  # type: ignore[attr-defined]  # ModelChoiceField has .queryset
        if not may_set_role:
            # Members editing their own profile do not choose their role in the community.
            del self.fields["role"]


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=OrgKind.choices, initial=OrgKind.OTHER)
    website = forms.CharField(required=False, max_length=200, help_text="https://...")
    industry = forms.CharField(required=False, max_length=100, help_text="A segment, for example: logistics")
    demand_weight = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1000,
        initial=1.0,
        label="Demand weight",
        help_text="How much this organisation's votes on ideas weigh (1 is the default).",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    domains = forms.CharField(
        required=False, help_text="Web and email domains, separated by commas: acme.com, acme.co.uk"
    )


class AffiliationForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.none(), label="Organisation")
    title = forms.CharField(required=False, max_length=200)
    started_on = forms.DateField(required=False, widget=DateInput, label="Started on")
    ended_on = forms.DateField(
        required=False, widget=DateInput, label="Ended on", help_text="Leave empty for a current place."
    )

    def __init__(self, *args: Any, organizations: QuerySet[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations  # type: ignore[attr-defined]  # ModelChoiceField has .queryset


class AffiliationEndForm(forms.Form):
    ended_on = forms.DateField(required=False, widget=DateInput, label="Ended on")


class IdentityForm(forms.Form):
    source = forms.CharField(max_length=100, help_text="For example slack, discourse, crm, email.")
    external_id = forms.CharField(max_length=255, label="External id", help_text="The id in that source.")
    handle = forms.CharField(required=False, max_length=255)
    email = forms.EmailField(required=False)
    display_name = forms.CharField(required=False, max_length=200, label="Display name")


class RelationshipForm(forms.Form):
    kind = forms.ChoiceField(choices=RelationshipKind.choices)
    target = forms.CharField(
        max_length=254,
        label="To",
        help_text="A member's email or id, or an organisation's name.",
    )
    strength = forms.FloatField(initial=1.0, min_value=0.01, max_value=100)
    evidence = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="How we know: a meeting, a contract, a CRM record.",
    )


class MergeForm(forms.Form):
    other = forms.CharField(
        max_length=254,
        label="Member to merge into this one",
        help_text="Their member id or primary email. They will be removed; their history moves here.",
    )
