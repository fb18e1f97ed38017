from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row
from django import forms

from cadences.editing import MAX_DAY, step_problems
from cadences.models import Cadence, CadenceStep
from leads.models import LeadSource


class CadenceForm(forms.ModelForm):
    sources = forms.ModelMultipleChoiceField(
        queryset=LeadSource.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=(
            "New leads from these sources get this cadence (with keywords: only when their interest matches too). "
            "No sources and no keywords: only used by hand, or as the default."
        ),
    )

    class Meta:
        model = Cadence
        fields = [
            "name",
            "description",
            "active",
            "is_default",
            "sources",
            "interest_keywords",
            "business_days_only",
            "instant_response",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {
            "is_default": "Default cadence",
            "instant_response": "Instant response (auto-responder and a call task within 5 minutes)",
            "business_days_only": "Business days only",
        }
        help_texts = {
            "interest_keywords": "Comma-separated; a lead whose interest contains one of them matches.",
            "active": "An inactive cadence picks no new leads; leads already in it carry on.",
            "is_default": (
                "Used for new leads no other cadence picks. Ticking it takes the role from the current default."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "name",
            "description",
            Row(Column("active"), Column("is_default")),
            "sources",
            "interest_keywords",
            Row(Column("business_days_only"), Column("instant_response")),
        )

    def _get_validation_exclusions(self):
        # "Only one default" is kept by editing.cadence_*: the previous default is unset in the
        # same transaction, so the model's one_default_cadence check must not reject the form.
        exclude = super()._get_validation_exclusions()
        exclude.add("is_default")
        return exclude


class CadenceStepForm(forms.ModelForm):
    day = forms.IntegerField(
        min_value=0,
        max_value=MAX_DAY,
        error_messages={
            "min_value": f"Day must be between 0 and {MAX_DAY}.",
            "max_value": f"Day must be between 0 and {MAX_DAY}.",
        },
        help_text="0 = the day the lead arrived.",
    )
    send_hour = forms.IntegerField(
        min_value=0,
        max_value=23,
        required=False,
        initial=10,
        label="Send hour",
        error_messages={
            "min_value": "Send hour must be between 0 and 23 (the lead's local time).",
            "max_value": "Send hour must be between 0 and 23 (the lead's local time).",
        },
        help_text="0–23, lead's local time. Empty: time of arrival.",
    )

    class Meta:
        model = CadenceStep
        fields = ["day", "channel", "automated", "send_hour", "subject", "body", "talking_points"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 6}),
            "talking_points": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"automated": "Automated: sent by the system (email and SMS only)"}
        help_texts = {
            "automated": "Otherwise a task for the rep. Calls and SMS never go out before 08:00 or after 21:00 "
            "for the lead; tasks land in the rep's working hours.",
            "subject": "Email only.",
        }

    def __init__(self, *args, preview_url: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.warnings: list[str] = []
        self.helper = FormHelper()
        self.helper.form_tag = False
        live = {}
        if preview_url:
            # Typing re-renders the preview for the sample lead (the whole form goes along, so the
            # preview knows whether the step is automated).
            live = {
                "hx_post": preview_url,
                "hx_trigger": "keyup changed delay:400ms",
                "hx_target": "#step-preview",
                "hx_include": "closest form",
                "hx_swap": "innerHTML",
            }
        on_change = {**live, "hx_trigger": "change"} if live else {}
        self.helper.layout = Layout(
            Row(
                Column("day", css_class="col-4"),
                Column(Field("channel", **on_change), css_class="col-4"),
                Column("send_hour", css_class="col-4"),
            ),
            Field("automated", **on_change),
            Field("subject", **live),
            Field("body", **live),
            Field("talking_points", **live),
        )

    def clean(self):
        cleaned = super().clean()
        problems = step_problems(
            day=cleaned.get("day"),
            channel=cleaned.get("channel") or "",
            automated=bool(cleaned.get("automated")),
            send_hour=cleaned.get("send_hour"),
            subject=cleaned.get("subject") or "",
            body=cleaned.get("body") or "",
            talking_points=cleaned.get("talking_points") or "",
        )
        for name, messages in problems.errors.items():
            if name in self.errors:
                continue  # the field's own validation already said so
            for message in messages:
                self.add_error(name, message)
        self.warnings = problems.warnings
        return cleaned

    def step_values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
