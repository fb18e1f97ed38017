"""Forms for the lead pages. They shape input; leads.services validates and writes."""

import inspect

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout
from django import forms
from django.core.exceptions import ValidationError

from accounts.forms import TimezoneField
from accounts.models import Role
from leads.models import Lead, LeadSource, LeadStatus
from leads.selectors import users_assignable_by, users_visible_to
from leads.services.intake import lead_clean_input


def is_manager_or_admin(user) -> bool:
    return user.is_superuser or user.role in (Role.MANAGER, Role.ADMIN)


# lead_clean_input calls the timezone "timezone_name"; the forms call it "timezone".
SERVICE_FIELD_MAP = {"timezone_name": "timezone"}
CLEAN_INPUT_FIELDS = set(inspect.signature(lead_clean_input).parameters)


def clean_input_args(values: dict) -> dict:
    """The arguments of lead_clean_input out of a form's values (blank where the form already refused one)."""
    return {name: values.get(name) or "" for name in CLEAN_INPUT_FIELDS}


def add_service_errors(form: forms.Form, exc: ValidationError, field_map: dict | None = None) -> None:
    """Show a service's ValidationError on the form: dict keys become field errors, the rest go on top."""
    field_map = field_map or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, errors in exc.message_dict.items():
        field = field_map.get(key, key)
        field = field if field in form.fields else None
        if field is not None and field in form.errors:
            continue  # the form's own message for this field says it already
        form.add_error(field, errors)


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class LeadFilterForm(forms.Form):
    """The search box and filters above the lead list (GET)."""

    q = forms.CharField(
        required=False,
        label="Search",
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "Name, phone or email", "type": "search", "autocomplete": "off"}),
    )
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *LeadStatus.choices])
    source = forms.ModelChoiceField(required=False, queryset=LeadSource.objects.all(), empty_label="Any source")
    owner = OwnerChoiceField(required=False, queryset=None, empty_label="Any owner")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if is_manager_or_admin(user):
            self.fields["owner"].queryset = users_visible_to(user).order_by("first_name", "username")
        else:
            # A rep only sees their own leads: an owner filter would have one choice.
            del self.fields["owner"]

    def filters(self) -> dict:
        """The valid filters; an invalid one (a stale owner id, say) is ignored rather than failing the page."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "q": data.get("q") or "",
            "status": data.get("status") or "",
            "source": data.get("source"),
            "owner": data.get("owner"),
        }


class LeadIntakeForm(forms.Form):
    """Phone intake: the four questions of the call script first, the rest optional."""

    first_name = forms.CharField(max_length=100, label="First name")
    last_name = forms.CharField(max_length=100, required=False, label="Last name")
    phone = forms.CharField(
        max_length=40,
        label="Phone number",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "placeholder": "(415) 555-0123"}),
    )
    how_heard = forms.CharField(max_length=300, label="How did you hear about us?")
    interest = forms.CharField(
        max_length=1000, label="Why are you contacting us?", widget=forms.Textarea(attrs={"rows": 3})
    )
    email = forms.CharField(max_length=254, required=False, widget=forms.EmailInput)
    company = forms.CharField(max_length=200, required=False)
    source = forms.ModelChoiceField(
        required=False, queryset=LeadSource.objects.filter(active=True), empty_label="(none)"
    )
    timezone = TimezoneField(blank="From the phone number", help_text="Leave blank to take it from the phone number.")
    twitter_handle = forms.CharField(max_length=51, required=False, label="Twitter/X handle")
    linkedin_url = forms.CharField(max_length=200, required=False, label="LinkedIn URL")
    owner = OwnerChoiceField(
        required=False,
        queryset=None,
        empty_label="Round-robin within the source's team",
        help_text="Who follows this lead up.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if is_manager_or_admin(user):
            self.fields["owner"].queryset = users_assignable_by(user).order_by("first_name", "username")
        else:
            del self.fields["owner"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        optional = ["email", "company", "source", "timezone", "twitter_handle", "linkedin_url"]
        if "owner" in self.fields:
            optional.append("owner")
        self.helper.layout = Layout(
            Fieldset(
                "Ask the caller",
                Div(Div("first_name", css_class="col-sm-6"), Div("last_name", css_class="col-sm-6"), css_class="row"),
                "phone",
                "how_heard",
                "interest",
            ),
            HTML('<hr class="my-3"><p class="text-muted small mb-2">Optional</p>'),
            Fieldset(
                "",
                Div(*[Div(name, css_class="col-md-6") for name in optional], css_class="row"),
            ),
        )

    def clean(self):
        data = super().clean()
        # The service validates again when saving; checking here shows every mistake at once.
        try:
            lead_clean_input(**clean_input_args(self.intake_kwargs(data)))
        except ValidationError as exc:
            add_service_errors(self, exc, SERVICE_FIELD_MAP)
        if "owner" in self.fields and not data.get("owner"):
            source = data.get("source")
            if source is None or source.team_id is None:
                self.add_error(
                    "owner",
                    "Choose an owner: round-robin needs a source that belongs to a team.",
                )
        return data

    def intake_kwargs(self, data=None) -> dict:
        """Arguments for leads.services.lead_intake."""
        data = self.cleaned_data if data is None else data
        owner = data.get("owner") if "owner" in self.fields else self.user
        return {
            "first_name": data.get("first_name", ""),
            "last_name": data.get("last_name", ""),
            "phone": data.get("phone", ""),
            "email": data.get("email", ""),
            "company": data.get("company", ""),
            "source": data.get("source"),
            "how_heard": data.get("how_heard", ""),
            "interest": data.get("interest", ""),
            "timezone_name": data.get("timezone", ""),
            "twitter_handle": data.get("twitter_handle", ""),
            "linkedin_url": data.get("linkedin_url", ""),
            "owner": owner,
            "via": "phone",
            "actor": self.user,
        }


class LeadEditForm(forms.Form):
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100, required=False)
    phone = forms.CharField(max_length=40, required=False, widget=forms.TextInput(attrs={"type": "tel"}))
    email = forms.CharField(max_length=254, required=False, widget=forms.EmailInput)
    company = forms.CharField(max_length=200, required=False)
    how_heard = forms.CharField(max_length=300, required=False, label="How did you hear about us?")
    interest = forms.CharField(
        max_length=1000, required=False, label="Why are you contacting us?", widget=forms.Textarea(attrs={"rows": 3})
    )
    # Choosing a zone here is what confirms it (lead_update); "" leaves it to the phone number.
    timezone = TimezoneField()
    twitter_handle = forms.CharField(max_length=51, required=False, label="Twitter/X handle")
    linkedin_url = forms.CharField(max_length=200, required=False, label="LinkedIn URL")

    def __init__(self, *args, lead: Lead, **kwargs):
        initial = {f: getattr(lead, f) for f in self.base_fields if hasattr(lead, f)}
        if lead.timezone_uncertain:
            # The guess is not offered as the answer: saving the form unchanged must not confirm it.
            initial["timezone"] = ""
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        guess = (
            f"Not confirmed: one of {len(lead.timezone_candidates)} zones (guess: {lead.timezone})"
            if lead.timezone_uncertain
            else "From the phone number"
        )
        # A zone the list lacks (an alias the API accepted, "US/Eastern") stays choosable as it is.
        self.fields["timezone"].set_zones(blank=guess, extra=lead.timezone)
        self.fields["timezone"].help_text = "Pick the lead's zone (they told you, or you checked) to confirm it."
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Div(
                *[
                    Div(name, css_class="col-md-6" if name != "interest" else "col-12")
                    for name in (
                        "first_name",
                        "last_name",
                        "phone",
                        "email",
                        "company",
                        "timezone",
                        "how_heard",
                        "twitter_handle",
                        "linkedin_url",
                        "interest",
                    )
                ],
                css_class="row",
            )
        )

    def clean(self):
        data = super().clean()
        try:
            lead_clean_input(**clean_input_args(self.update_kwargs(data)))
        except ValidationError as exc:
            add_service_errors(self, exc, SERVICE_FIELD_MAP)
        return data

    def update_kwargs(self, data=None) -> dict:
        data = dict(self.cleaned_data if data is None else data)
        zone = data.pop("timezone", "")
        # Only a zone the rep picked is passed on (and so confirmed); an untouched field keeps what the lead has.
        if "timezone" in self.changed_data:
            data["timezone_name"] = zone
        return data


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Add a note",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What happened? What's next?"}),
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=LeadStatus.choices)
    reason = forms.CharField(max_length=300, required=False, label="Reason")
    override = forms.BooleanField(required=False, label="Override the minimum-attempts rule (give a reason)")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not is_manager_or_admin(user):
            del self.fields["override"]

    def change_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"status": data["status"], "reason": data["reason"], "override": data.get("override", False)}


class AssignForm(forms.Form):
    owner = OwnerChoiceField(queryset=None, empty_label=None, label="New owner")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = users_assignable_by(user).order_by("first_name", "username")


class MergeConfirmForm(forms.Form):
    duplicate = forms.IntegerField(widget=forms.HiddenInput)
