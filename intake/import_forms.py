from django import forms

from accounts.models import User
from leads.models import LeadSource
from leads.selectors import users_assignable_by


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Up to 5 MB. First row: column names, e.g. First name, Last name, Phone, Email, Company, "
        "How heard, Interest. UTF-8 preferred.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,text/csv"}),
    )
    source = forms.ModelChoiceField(
        queryset=LeadSource.objects.none(),
        required=False,
        empty_label="(no source)",
        help_text="Where these leads came from. Without an owner, leads go round-robin to this source's team.",
    )
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="(round-robin in the source's team)",
        help_text="Give every imported lead to this person.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = LeadSource.objects.filter(active=True).select_related("team")
        self.fields["owner"].queryset = users_assignable_by(user).order_by("first_name", "username")
