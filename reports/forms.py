"""The reports' filters: a week or a date range, and a team or rep among those the viewer may see."""

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from reports.selectors.period import FIRST_REPORT_DAY, LAST_REPORT_DAY
from reports.selectors.scope import may_filter_people, report_people_for, teams_visible_to

DATE_INPUT = forms.DateInput(
    attrs={
        "type": "date",
        "class": "form-control form-control-sm",
        "min": FIRST_REPORT_DAY.isoformat(),
        "max": LAST_REPORT_DAY.isoformat(),
    }
)
SELECT = {"class": "form-select form-select-sm"}


def _day(day) -> str:
    return f"{day:%B} {day.day}, {day.year}"


OUT_OF_RANGE = f"Pick a day between {_day(FIRST_REPORT_DAY)} and {_day(LAST_REPORT_DAY)}."


class ReportDateField(forms.DateField):
    """A day a report can cover: a malformed date or one outside the reports' calendar is a field error."""

    default_error_messages = {"invalid": "Enter a date as YYYY-MM-DD."}

    def __init__(self, **kwargs):
        validators = [
            MinValueValidator(FIRST_REPORT_DAY, message=OUT_OF_RANGE),
            MaxValueValidator(LAST_REPORT_DAY, message=OUT_OF_RANGE),
        ]
        super().__init__(required=False, widget=DATE_INPUT, validators=validators, **kwargs)


class ReportFilterForm(forms.Form):
    week = ReportDateField(label="Week of", help_text="Any day of the week.")
    date_from = ReportDateField(label="Arrived from")
    date_to = ReportDateField(label="to")
    team = forms.ModelChoiceField(queryset=None, required=False, empty_label="All my teams")
    rep = forms.ModelChoiceField(queryset=None, required=False, empty_label="All reps")

    def __init__(self, *args, user, period: str = "range", **kwargs):
        super().__init__(*args, **kwargs)
        if period == "week":
            del self.fields["date_from"], self.fields["date_to"]
        else:
            del self.fields["week"]
        if may_filter_people(user):
            self.fields["team"].queryset = teams_visible_to(user)
            self.fields["team"].widget.attrs.update(SELECT)
            self.fields["rep"].queryset = report_people_for(user)
            self.fields["rep"].widget.attrs.update(SELECT)
            if user.is_superuser or user.role == "admin":
                self.fields["team"].empty_label = "All teams"
        else:
            # A rep's reports are their own: team and rep parameters are ignored.
            del self.fields["team"], self.fields["rep"]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    @property
    def forbidden_choice(self) -> bool:
        """A team or rep the viewer may not see was asked for (the view answers 404)."""
        return any(name in self.errors for name in ("team", "rep"))


class WeeklySummaryForm(forms.Form):
    """A person's own weekly summary email (a checkbox: unticked is off)."""

    weekly_summary_email = forms.BooleanField(
        label="Email me my own Feedback Friday summary every Friday",
        help_text="Your line of the week (attempts, followed up, left behind, closed early) and the leads you left behind.",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
