import uuid

from django import forms

# The form's own bounds (Touch.subject's length); reactions.rep_messages checks the channel's (a
# text's 1600 characters). No import from the layers above leads: this module is not one of the
# page modules the import contract leaves out.
SUBJECT_MAX = 300
BODY_MAX = 20000


class ComposeForm(forms.Form):
    """An email (subject and body) or a text (body) to a lead; merge fields allowed, rendered on send."""

    subject = forms.CharField(required=False, max_length=SUBJECT_MAX)
    body = forms.CharField(max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 8}))
    # One per form shown, posted back with it: a second post of the same form sends nothing more.
    send_key = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, channel: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel
        if not self.is_bound:
            self.initial.setdefault("send_key", uuid.uuid4())
        if channel == "sms":
            del self.fields["subject"]
            self.fields["body"].label = "Text"
            self.fields["body"].widget.attrs.update({"rows": 5, "data-sms-counter": "sms-count"})
        else:
            self.fields["subject"].required = True
            self.fields["body"].label = "Message"

    def send_kwargs(self) -> dict:
        return {
            "subject": self.cleaned_data.get("subject", ""),
            "body": self.cleaned_data["body"],
            "key": self.cleaned_data.get("send_key"),
        }
