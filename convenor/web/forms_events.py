"""Forms for events: the list filters, the event form, registration, check-in and the survey.

The forms check shapes (a date is a date, a number is a number); the services check
meaning (an end before its start, no seats, a commercial event without its brief) and
their per-field messages are put back on the form by :func:`convenor.web.forms.add_service_errors`.
Times are typed as local wall-clock times in the event's time zone, the way organisers
think of them ("18:00 in Paris"); the form turns them into aware datetimes.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms

from convenor.events.models import Frame, Intent, Recurrence, Visibility
from convenor.web.forms import split_list

FRAME_HELP = (
    "Community: people who use it help one another; nothing is sold, and the description is checked "
    "against the charter. Commercial: a sales session; it states its brief to every registrant."
)
PEOPLE_HELP = "Email addresses or @handles, separated by commas."


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class EventFilterForm(forms.Form):
    when = forms.ChoiceField(required=False, choices=[("upcoming", "Upcoming"), ("past", "Past")])
    frame = forms.ChoiceField(required=False, choices=[("", "Any frame"), *Frame.choices])
    space = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Space")
    organization = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Organisation")
    q = forms.CharField(required=False, max_length=200, label="Title")

    def __init__(
        self, *args: Any, spaces: list[tuple[int, str]], organizations: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["space"].choices = [("", "Any space"), *[(str(pk), n) for pk, n in spaces]]  # type: ignore[attr-defined]  # ChoiceField has .choices
        self.fields["organization"].choices = [("", "Any organisation"), *[(str(pk), n) for pk, n in organizations]]  # type: ignore[attr-defined]  # ChoiceField has .choices


REPEAT_HELP = "Each occurrence is an ordinary event, with its own registrations, that can be changed on its own."


class RepeatFields(forms.Form):
    """How an event repeats: weekly or monthly (every n), or on custom dates; until a date or n times."""

    repeat = forms.ChoiceField(
        required=False,
        choices=[("", "Does not repeat"), *Recurrence.choices],
        label="Repeat",
        help_text=REPEAT_HELP,
    )
    interval = forms.IntegerField(
        required=False, min_value=1, max_value=52, initial=1, label="Every", help_text="Weeks or months between two."
    )
    count = forms.IntegerField(
        required=False, label="Occurrences", help_text="How many in all, the first included (2 to 104)."
    )
    until = forms.DateField(
        required=False,
        label="Until",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Or the last day of the series.",
    )
    dates = forms.CharField(
        required=False,
        max_length=4000,
        label="Custom dates",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "2026-05-12, 2026-06-02"}),
        help_text="For custom dates: other days (YYYY-MM-DD), at the same time as the first.",
    )

    REPEAT_NAMES = ("repeat", "interval", "count", "until", "dates")

    def clean_dates(self) -> list[date]:
        raw = self.cleaned_data.get("dates") or ""
        days: list[date] = []
        for part in re.split(r"[\s,;]+", raw.strip()):
            if not part:
                continue
            try:
                days.append(date.fromisoformat(part))
            except ValueError:
                raise forms.ValidationError(f"{part!r} is not a date like 2026-05-12") from None
        return sorted(set(days))

    def repeat_args(self, first: datetime) -> dict[str, Any]:
        """The series services' arguments; custom days take the first occurrence's local time."""
        data = self.cleaned_data
        recurrence = data.get("repeat") or ""
        zone = first.tzinfo
        return {
            "recurrence": recurrence,
            "interval": data.get("interval") or 1,
            "count": data.get("count"),
            "horizon": data.get("until"),
            "dates": [datetime.combine(d, first.timetz()).replace(tzinfo=zone) for d in data.get("dates") or []]
            if recurrence == Recurrence.CUSTOM
            else [],
        }


class RepeatForm(RepeatFields):
    """ "Make this recurring" for an existing event."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["repeat"].required = True
        self.fields["repeat"].choices = Recurrence.choices  # type: ignore[attr-defined]  # ChoiceField has .choices


class ExtendSeriesForm(forms.Form):
    until = forms.DateField(label="Repeat until", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


class InviteForm(forms.Form):
    people = forms.CharField(
        max_length=4000,
        label="Who",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "carla@acme.example, @dan"}),
        help_text="Email addresses or @handles, separated by commas. Each gets the invitation by email with the "
        "calendar entry.",
    )

    def names(self) -> list[str]:
        raw = self.cleaned_data.get("people") or ""
        return list(dict.fromkeys(part for part in re.split(r"[\s,;]+", raw) if part))


class EventForm(RepeatFields):
    title = forms.CharField(max_length=200)
    frame = forms.ChoiceField(choices=Frame.choices, widget=forms.RadioSelect, help_text=FRAME_HELP)
    description = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Markdown. A community event's description must not sell.",
    )
    starts_at = forms.DateTimeField(label="Starts", widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M"])
    ends_at = forms.DateTimeField(label="Ends", widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M"])
    time_zone = forms.CharField(
        max_length=64, initial="Europe/Paris", help_text="Where it is held, such as Europe/Paris or America/New_York."
    )
    place = forms.CharField(required=False, max_length=300, help_text="An address, or leave empty for online only.")
    online_url = forms.CharField(required=False, max_length=500, label="Online link")
    capacity = forms.IntegerField(required=False, label="Seats", help_text="Leave empty for no limit.")
    registration_closes_at = forms.DateTimeField(
        required=False,
        label="Registration closes",
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M"],
        help_text="Leave empty to keep it open until the event ends.",
    )
    space = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, help_text="An event in a space is seen by its readers."
    )
    visibility = forms.ChoiceField(
        choices=[(v.value, v.label) for v in Visibility if v != Visibility.GROUP],
        initial=Visibility.MEMBERS,
        help_text="Used when the event is not in a space.",
    )
    organization = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Customer organisation",
        help_text="For account events: whose people may see it.",
    )
    hosts = forms.CharField(required=False, max_length=1000, help_text=f"{PEOPLE_HELP} Empty: you host it.")
    speakers = forms.CharField(required=False, max_length=1000, help_text=PEOPLE_HELP)
    # The commercial brief: required by the service when the frame is commercial.
    brief_audience = forms.CharField(
        required=False, label="Who it targets", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    brief_reason = forms.CharField(
        required=False, label="Why they want to hear it", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    brief_offer = forms.CharField(
        required=False, label="What is offered", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    brief_payment = forms.CharField(
        required=False, label="How they pay", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    commercial_owner = forms.CharField(
        required=False,
        max_length=254,
        label="Commercial owner",
        help_text="The employee who follows buyers up: email or @handle. Empty: you.",
    )

    TIME_FIELDS = ("starts_at", "ends_at", "registration_closes_at")
    BRIEF_NAMES = ("brief_audience", "brief_reason", "brief_offer", "brief_payment")

    def __init__(
        self,
        *args: Any,
        spaces: list[tuple[int, str]],
        organizations: list[tuple[int, str]],
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["space"].choices = [("", "No space"), *[(str(pk), n) for pk, n in spaces]]  # type: ignore[attr-defined]  # ChoiceField has .choices
        self.fields["organization"].choices = [("", "None"), *[(str(pk), n) for pk, n in organizations]]  # type: ignore[attr-defined]  # ChoiceField has .choices
        if editing:
            # An event stays in the space it was created in: its readership follows it.
            self.fields["space"].disabled = True
            for name in self.REPEAT_NAMES:
                del self.fields[name]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        zone_name = (data.get("time_zone") or "").strip()
        try:
            zone = ZoneInfo(zone_name) if zone_name else None
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
        if zone is None:
            self.add_error("time_zone", f"{zone_name!r} is not a known time zone (use a name such as Europe/Paris)")
            return data
        data["time_zone"] = zone_name
        # The typed wall-clock times are in the event's zone, whatever the server's zone is.
        for name in self.TIME_FIELDS:
            value = data.get(name)
            if isinstance(value, datetime):
                data[name] = value.replace(tzinfo=None).replace(tzinfo=zone)
        return data

    def people(self, name: str) -> list[str]:
        return split_list(self.cleaned_data.get(name) or "")


class RegistrationForm(forms.Form):
    intent = forms.ChoiceField(choices=Intent.choices, widget=forms.RadioSelect, label="Why do you come?")
    # Set by the "Register anyway" button, after the registrant has read the notice.
    acknowledged = forms.BooleanField(required=False, widget=forms.HiddenInput)


class CheckinSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Name or email")


class SurveyForm(forms.Form):
    fit = forms.TypedChoiceField(
        choices=[(str(n), str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        label="Was the session what its framing promised?",
        help_text="1: not at all · 5: exactly.",
    )
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)
