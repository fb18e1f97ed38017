from django import forms

from accounts.models import User
from cadences.models import Outcome
from leads.forms import OwnerChoiceField
from leads.selectors import users_assignable_by


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(choices=Outcome.choices)
    note = forms.CharField(required=False, max_length=5000)

    def __init__(self, *args, allowed=None, **kwargs):
        super().__init__(*args, **kwargs)
        if allowed is not None:
            self.fields["outcome"].choices = [(o.value, o.label) for o in allowed]


class DecisionForm(forms.Form):
    """What "Not interested" leads to (reactions.decisions)."""

    CLOSE = "close"
    NURTURE = "nurture"
    KEEP = "keep"
    decision = forms.ChoiceField(
        choices=[(CLOSE, "Close as lost"), (NURTURE, "Move to long-term nurture"), (KEEP, "Keep going")]
    )
    reason = forms.CharField(required=False, max_length=300)


class SnoozeForm(forms.Form):
    HOUR = "1h"
    TOMORROW = "tomorrow"
    AT = "at"
    until = forms.ChoiceField(choices=[(HOUR, "In 1 hour"), (TOMORROW, "Tomorrow morning"), (AT, "Reschedule to…")])
    at = forms.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("until") == self.AT and not data.get("at"):
            self.add_error("at", "Pick a date and time.")
        return data


class ReassignForm(forms.Form):
    to = OwnerChoiceField(queryset=None, label="Reassign to")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = users_assignable_by(user).order_by("first_name", "username")


class ReferralCallForm(forms.Form):
    result = forms.ChoiceField(choices=[("none", "Called, no referral"), ("referral", "Got a referral")])
    first_name = forms.CharField(required=False, max_length=100)
    last_name = forms.CharField(required=False, max_length=100)
    phone = forms.CharField(required=False, max_length=40)
    email = forms.CharField(required=False, max_length=254)
    note = forms.CharField(required=False, max_length=1000)


class IdsField(forms.Field):
    """Several ids posted under one name (the checked boxes of a list)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": "The selection holds something that is not a task or lead number."}

    def to_python(self, value):
        try:
            ids = [int(v) for v in value or [] if str(v).strip()]
        except (TypeError, ValueError):
            ids = None
        # Past a database integer's range is no number of ours either (and must not reach the query).
        if ids is None or any(not 0 < pk < 2**63 for pk in ids):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return ids


class TeamReassignForm(forms.Form):
    """Team today's "Reassign selected to …": which tasks and leads, and to whom. Who may get
    them and which ids are the viewer's to move is today.services.team_reassign's to decide."""

    to = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True),
        error_messages={
            "required": "Choose who gets them.",
            "invalid_choice": "Choose someone you can assign tasks to.",
        },
    )
    touches = IdsField(required=False)
    leads = IdsField(required=False)

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("touches") and not data.get("leads"):
            raise forms.ValidationError("Select at least one task or lead to reassign.")
        return data
