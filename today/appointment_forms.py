"""The appointment dialog's form: a date and a time on the LEAD's clock, how long, where, a note."""

import datetime as dt
from zoneinfo import ZoneInfo

from django import forms

DURATIONS = [
    (15, "15 minutes"),
    (30, "30 minutes"),
    (45, "45 minutes"),
    (60, "1 hour"),
    (90, "1½ hours"),
    (120, "2 hours"),
]


class AppointmentForm(forms.Form):
    date = forms.DateField(
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
        error_messages={"required": "Pick a date.", "invalid": "Enter a date like 2026-12-03."},
    )
    time = forms.TimeField(
        input_formats=["%H:%M", "%H:%M:%S"],
        widget=forms.TimeInput(attrs={"type": "time", "class": "form-control form-control-sm"}, format="%H:%M"),
        error_messages={"required": "Pick a time.", "invalid": "Enter a time like 14:30."},
    )
    duration = forms.TypedChoiceField(
        choices=DURATIONS,
        coerce=int,
        initial=30,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    location = forms.CharField(
        required=False,
        max_length=300,
        widget=forms.TextInput(
            attrs={"class": "form-control form-control-sm", "placeholder": "Address, phone number or video link"}
        ),
    )
    note = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"class": "form-control form-control-sm", "rows": 2}),
    )

    def __init__(self, *args, lead_tz: ZoneInfo, **kwargs):
        super().__init__(*args, **kwargs)
        self.lead_tz = lead_tz

    def clean(self):
        data = super().clean()
        day, clock = data.get("date"), data.get("time")
        if day is None or clock is None:
            return data
        local = dt.datetime.combine(day, clock.replace(second=0, microsecond=0), tzinfo=self.lead_tz)
        starts_at = local.astimezone(dt.UTC)
        if starts_at.astimezone(self.lead_tz).replace(tzinfo=None) != local.replace(tzinfo=None):
            # A wall-clock time skipped when the clocks go forward.
            self.add_error("time", f"{clock:%H:%M} does not exist that day in {self.lead_tz} (the clocks change).")
            return data
        data["starts_at"] = starts_at
        return data

    def starts_at_preview(self) -> dt.datetime | None:
        """The typed moment (or the suggested one), to show it on both clocks."""
        if not self.is_bound:
            day, clock = self.initial.get("date"), self.initial.get("time")
            if day is None or clock is None:
                return None
            return dt.datetime.combine(day, clock, tzinfo=self.lead_tz).astimezone(dt.UTC)
        self.is_valid()  # cleaned_data holds what could be read, even when other fields are wrong
        return self.cleaned_data.get("starts_at")
