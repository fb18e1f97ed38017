from django.conf import settings
from django.db import models


class Message(models.Model):
    """An SMS or email that went out or came in, with its delivery state.

    With no Twilio credentials, outbound SMS stay here with status "outbox" (the dev outbox page).
    """

    class Direction(models.TextChoices):
        OUTBOUND = "out", "Outbound"
        INBOUND = "in", "Inbound"

    class Status(models.TextChoices):
        OUTBOX = "outbox", "In outbox (not sent: no provider configured)"
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        UNDELIVERED = "undelivered", "Undelivered"
        FAILED = "failed", "Failed"
        RECEIVED = "received", "Received"

    direction = models.CharField(max_length=3, choices=Direction.choices)
    channel = models.CharField(max_length=10, choices=[("sms", "SMS"), ("email", "Email")])
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="messages")
    touch = models.ForeignKey(
        "cadences.Touch", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    to = models.CharField(max_length=254)
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    provider_message_id = models.CharField(max_length=200, blank=True, db_index=True)
    # RFC 5322 Message-ID of an email, in or out: a rep's answer threads under the lead's last message.
    message_id = models.CharField(max_length=500, blank=True, db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    error_code = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Twilio retries webhooks: an inbound message id is processed once.
            models.UniqueConstraint(
                fields=["provider_message_id"],
                condition=models.Q(direction="in") & ~models.Q(provider_message_id=""),
                name="inbound_message_once",
            )
        ]

    def __str__(self):
        return f"{self.get_direction_display()} {self.channel} to {self.to}"


class OptOut(models.Model):
    """The record of a lead's consent change on a channel: when, how and from where."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="opt_outs")
    channel = models.CharField(max_length=10, choices=[("sms", "SMS"), ("email", "Email"), ("call", "Call")])
    opted_out = models.BooleanField(help_text="False records an opt back in.")
    source = models.CharField(max_length=100, help_text='e.g. "SMS keyword STOP", "unsubscribe link"')
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{'Opt-out' if self.opted_out else 'Opt-in'} {self.channel} ({self.source})"


class Suppression(models.Model):
    """Consent per person, not per lead row: an opted-out phone number (E.164) or email address (lower-cased).

    Kept by the opt-out and opt-in services (messaging.suppressions), whatever lead the STOP or the
    unsubscribe came through, so a later lead with the same number or address starts opted out
    (messaging.suppressions.lead_consent_inherit) and dispatch refuses to text a suppressed number.
    An opt back in keeps the row with `opted_out=False`: the latest word of that person wins.
    """

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"

    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=254, help_text="E.164 phone number, or lower-cased email address")
    opted_out = models.BooleanField(default=True)
    source = models.CharField(max_length=100, help_text='e.g. "SMS keyword STOP", "unsubscribe link"')
    lead = models.ForeignKey(
        "leads.Lead",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The lead the latest change came through, if any",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "address"], name="suppression_once_per_address")]

    def __str__(self):
        return f"{self.channel} {self.address}: {'opted out' if self.opted_out else 'opted in'} ({self.source})"


class EarlyStatusCallback(models.Model):
    """A Twilio status callback for a message id nothing is recorded under yet.

    Twilio may call back milliseconds after it accepted a text, before the dispatcher has recorded
    the id on the touch and its Message (messaging/dispatch.py, step 3). The callback is kept here
    and applied when the id is recorded (messaging.services.early_status_callbacks_apply); one for
    an id that is never recorded (a rep's alert text has no touch) is deleted after
    EARLY_STATUS_CALLBACKS_KEPT_FOR (messaging.services).
    """

    sid = models.CharField(max_length=200, db_index=True)
    status = models.CharField(max_length=20)
    error_code = models.CharField(max_length=20, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            # Twilio retries a callback it got no answer to: one row per id and status.
            models.UniqueConstraint(fields=["sid", "status"], name="early_status_callback_once")
        ]

    def __str__(self):
        return f"{self.sid}: {self.status}"


class InboundEmail(models.Model):
    """One email that reached LeadFollow (the IMAP reply mailbox, an ESP's inbound webhook or
    `manage.py inbound_email`), kept as received and processed once (unique `message_id`).

    Matched to a lead by In-Reply-To/References, the reply token, or the sender; one that matches
    no lead waits under "Unmatched replies" until a manager attaches or discards it: never lost,
    never a lead made silently.
    """

    class Kind(models.TextChoices):
        REPLY = "reply", "Reply"
        AUTO_REPLY = "auto_reply", "Auto-reply (out of office)"
        BOUNCE = "bounce", "Delivery failure (hard bounce)"
        DELAY = "delay", "Delivery delayed (soft bounce)"

    class State(models.TextChoices):
        MATCHED = "matched", "Matched to a lead"
        UNMATCHED = "unmatched", "Unmatched: waiting for a manager"
        ASSIGNED = "assigned", "Attached to a lead by hand"
        DISCARDED = "discarded", "Discarded"

    # The RFC 5322 Message-ID, or "sha256:<hex>" of the raw message when it has none.
    message_id = models.CharField(max_length=500, unique=True)
    via = models.CharField(max_length=30, help_text='"imap", "webhook:mailgun", "command"')
    raw = models.BinaryField(help_text="The message as received")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.REPLY)
    state = models.CharField(max_length=20, choices=State.choices, default=State.UNMATCHED)
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_emails"
    )
    matched_by = models.CharField(max_length=20, blank=True, help_text='"in_reply_to", "token", "sender", "manager"')
    from_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True, help_text="The reply without its quoted history")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["state", "-received_at"], name="inbound_email_by_state")]

    def __str__(self):
        return f"{self.get_kind_display()} from {self.from_address} ({self.state})"


class MailboxState(models.Model):
    """Where the IMAP poller is in one mailbox folder: UIDs up to `last_uid` under `uid_validity`
    were processed (a new UIDVALIDITY means the server renumbered: the folder is read again, and
    the unique Message-ID of InboundEmail keeps each message processed once)."""

    mailbox = models.CharField(max_length=300, unique=True, help_text="user@host:port/folder")
    uid_validity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    def __str__(self):
        return f"{self.mailbox} at UID {self.last_uid}"
