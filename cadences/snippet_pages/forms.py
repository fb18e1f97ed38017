from django import forms

from cadences.models import Snippet


class SnippetForm(forms.Form):
    title = forms.CharField(max_length=100)
    channel = forms.ChoiceField(choices=Snippet._meta.get_field("channel").choices)
    subject = forms.CharField(max_length=300, required=False, help_text="Email only.")
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Merge fields: {{ lead.first_name }}, {{ rep.first_name }}, {{ company }} …",
    )
