from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row
from django import forms

from cadences.editing import MAX_DAY, MAX_FRESH_MINUTES, MIN_FRESH_MINUTES, cadence_problems, step_problems
from cadences.models import Cadence, CadenceStep
from leads.models import LeadSource

# The model keeps a boolean; the editor says what each choice does.
SHIFT_WHEN_LATE_CHOICES = [
    ("True", "Shift the rest: the later steps move by the delay, keeping their spacing"),
    ("False", "Keep dates: the later steps stay on their days (past-due ones fall due at once)"),
]


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
    shift_when_late = forms.TypedChoiceField(
        label="When the rep is late",
        choices=SHIFT_WHEN_LATE_CHOICES,
        coerce=lambda value: value == "True",
        initial="True",
        widget=forms.RadioSelect,
        help_text="Steps run one after another: the next one falls due when the rep has done the one before. "
        "A rep who is late on a step (past its due time plus the grace) either moves the rest of the cadence "
        "by the delay, or leaves its dates as planned.",
    )

    class Meta:
        model = Cadence
        fields = [
            "name",
            "description",
            "active",
            "is_default",
            "kind",
            "intake_via",
            "sources",
            "interest_keywords",
            "business_days_only",
            "instant_response",
            "shift_when_late",
            "wait_for_rep",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {
            "is_default": "Default cadence",
            "kind": "What it is for",
            "intake_via": "For leads that came in",
            "instant_response": "Instant response: Day 0 steps timed “at once” go out the moment the lead arrives",
            "business_days_only": "Business days only",
            "wait_for_rep": "Wait for the rep: automated steps after a rep's task wait until it is done",
        }
        help_texts = {
            "interest_keywords": "Comma-separated; a lead whose interest contains one of them matches.",
            "active": "An inactive cadence picks no new leads; leads already in it carry on.",
            "is_default": (
                "Used for new leads no other cadence picks. Ticking it takes the role from the current default."
            ),
            "kind": "Follow-up cadences are picked for new leads by the rules below. Long-term nurture and "
            "after-a-missed-appointment cadences are started by a rep's outcome (“Not interested → nurture”, "
            "“No-show”), never picked for a new lead.",
            "intake_via": "A cadence for one way in beats the source and keyword rules and is never used for "
            "leads that came in another way: “Taken by a rep on the phone” is for callers the rep has just "
            "talked to.",
            "instant_response": "Web leads: the auto-responder and the call-within-5-minutes task. A lead taken "
            "on the phone never gets these from a cadence that is not for phone leads.",
            "wait_for_rep": "Untick to let automated emails and texts go at their own dates even while the "
            "rep's call before them is still open.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "name",
            "description",
            Row(Column("active"), Column("is_default")),
            Row(Column("kind"), Column("intake_via")),
            "sources",
            "interest_keywords",
            Row(Column("business_days_only"), Column("instant_response")),
            "shift_when_late",
            "wait_for_rep",
        )

    def clean(self):
        cleaned = super().clean()
        if "kind" in cleaned and "intake_via" in cleaned:
            problems = cadence_problems(
                kind=cleaned["kind"],
                is_default=bool(cleaned.get("is_default")),
                intake_via=cleaned.get("intake_via") or "",
                has_source_rules=bool(cleaned.get("sources")),
                interest_keywords=cleaned.get("interest_keywords") or "",
            )
            for name, messages in problems.items():
                for message in messages:
                    self.add_error(name, message)
        return cleaned

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
    fresh_minutes = forms.IntegerField(
        min_value=MIN_FRESH_MINUTES,
        max_value=MAX_FRESH_MINUTES,
        required=False,
        label="Send within … minutes, else skip as expired",
        error_messages={
            "min_value": f"Send within must be between {MIN_FRESH_MINUTES} and {MAX_FRESH_MINUTES} minutes (a week).",
            "max_value": f"Send within must be between {MIN_FRESH_MINUTES} and {MAX_FRESH_MINUTES} minutes (a week).",
        },
        help_text="Automated steps only. A step that cannot go out this soon after its due time (the system "
        "was down, the rep's task before it took longer) is skipped as expired, never sent late. Empty: 60 "
        "for a Day 0 step sent at once, 1440 (a day) otherwise.",
    )

    class Meta:
        model = CadenceStep
        fields = ["day", "channel", "automated", "send_hour", "fresh_minutes", "subject", "body", "talking_points"]
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
            "fresh_minutes",
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
            fresh_minutes=cleaned.get("fresh_minutes"),
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
