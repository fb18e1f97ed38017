"""An email arrives through an email provider's inbound webhook (django-anymail's inbound signal).

anymail has checked the provider's signature before it sends the signal. The receiver hands the
message's raw bytes to the one entry point for inbound email, `inbound_email_receive`, which stores it
once per Message-ID and reacts (reply, bounce, auto-reply). A database error propagates: the webhook
answers 500 and the provider posts again later, which the entry point's idempotency makes safe.
"""

from anymail.signals import AnymailInboundEvent

from reactions.inbound_email import inbound_email_receive


def inbound_raw_bytes(event: AnymailInboundEvent) -> bytes:
    """The message as the provider received it.

    Mailgun's raw-MIME route (a URL ending in "mime") posts it whole as "body-mime": those bytes are
    taken as they are, with every header (Message-ID, In-Reply-To, References) in its original form.
    Otherwise anymail rebuilt the message from the provider's parsed fields (Mailgun's
    "message-headers" keeps all the headers) and it is serialized again.
    """
    posted = getattr(event.esp_event, "POST", None)
    body_mime = posted.get("body-mime") if posted is not None else None
    if body_mime:
        # Django decoded the form field as UTF-8; encoding it back gives the bytes Mailgun sent.
        return body_mime.encode("utf-8", "surrogateescape")
    return event.message.as_bytes()


def on_anymail_inbound(sender, event: AnymailInboundEvent, esp_name: str = "", **kwargs) -> None:
    """Receiver for anymail.signals.inbound (connected in LeadFollowConfig.ready)."""
    inbound_email_receive(inbound_raw_bytes(event), via=f"webhook:{esp_name.lower()}")
