from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords


class Channel(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    TWITTER = "twitter", "Twitter/X"
    LINKEDIN = "linkedin", "LinkedIn"
    TASK = "task", "Task"


# Only these channels can be sent by the workers; every other step is a task for the rep.
AUTOMATABLE_CHANNELS = (Channel.EMAIL, Channel.SMS)
# These reach the recipient's phone: never outside the contact window in their local time.
QUIET_HOURS_CHANNELS = (Channel.SMS, Channel.CALL)


class CadenceKind(models.TextChoices):
    FOLLOW_UP = "follow_up", "Follow-up of a new lead"
    NURTURE = "nurture", "Long-term nurture"
    NO_SHOW = "no_show", "After a missed appointment"


class IntakeVia(models.TextChoices):
    """How a lead came in (the `via` of leads.services.intake.lead_capture); a cadence may be for one of them."""

    ANY = "", "Any way in"
    PHONE = "phone", "Taken by a rep on the phone"
    API = "api", "Web-to-lead API"
    FORM = "form", "Entered by a rep"
    IMPORT = "csv", "CSV import"
    REFERRAL = "referral", "Referral"
    SMS = "sms", "Text message"


class Cadence(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, help_text="Used for new leads that no other cadence's rules pick.")
    # Rules that pick this cadence for a new lead: empty means "any".
    sources = models.ManyToManyField("leads.LeadSource", blank=True, related_name="cadences")
    interest_keywords = models.CharField(
        max_length=300, blank=True, help_text="Comma-separated words matched against the lead's interest."
    )
    kind = models.CharField(
        max_length=20,
        choices=CadenceKind.choices,
        default=CadenceKind.FOLLOW_UP,
        help_text="Only follow-up cadences are picked for new leads; nurture and no-show cadences are started by outcomes.",
    )
    intake_via = models.CharField(
        "for leads that came in", max_length=20, choices=IntakeVia.choices, blank=True, default=IntakeVia.ANY
    )
    business_days_only = models.BooleanField(default=False)
    # A new lead gets an immediate auto-responder and a call task due within this many minutes.
    instant_response = models.BooleanField(default=True)
    # Steps are sequential (cadences.sequence): a late rep moves the rest of the cadence by the delay...
    shift_when_late = models.BooleanField(
        default=True, help_text="When the rep is late on a step, the later steps move by the delay (else: keep dates)."
    )
    # ...and automated steps after an open manual task wait for it.
    wait_for_rep = models.BooleanField(
        default=True, help_text="Automated steps after a rep's task wait until the rep has done it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Who changed what, when (django-simple-history): shown to admins on the cadence history page.
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_cadence")
        ]

    def __str__(self):
        return self.name


class CadenceStep(models.Model):
    """One touch of a cadence on one channel.

    Steps used by any touch are never edited in place: an edit retires the step and
    creates its successor, so running enrollments keep the wording they were scheduled with.
    """

    cadence = models.ForeignKey(Cadence, on_delete=models.CASCADE, related_name="steps")
    day = models.PositiveSmallIntegerField(help_text="Day 0 is the day the lead arrived.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order among the steps of the same day.")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    automated = models.BooleanField(default=False, help_text="Email and SMS only: sent by the system.")
    # Local hour the step is due (lead's timezone), before quiet-hour/work-hour moves;
    # empty: at the lead's arrival time of day (on Day 0: immediately — the instant response).
    send_hour = models.PositiveSmallIntegerField(
        null=True, blank=True, default=10, help_text="Empty = at the time the lead arrived (Day 0: at once)."
    )
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True, help_text="Merge fields: {{ lead.first_name }}, {{ rep.first_name }}, ...")
    talking_points = models.TextField(blank=True, help_text="Purpose of this touch and what to say.")
    # An automated step found due later than this is skipped as "expired", never sent late.
    fresh_minutes = models.PositiveIntegerField(
        "send within (minutes)",
        null=True,
        blank=True,
        help_text="Automated steps only: skipped as expired when they cannot go out this soon after their due time. "
        "Empty: 60 for the Day 0 auto-responder, 1440 (a day) otherwise.",
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["cadence", "day", "position", "id"]
        indexes = [models.Index(fields=["cadence", "retired_at"])]

    def __str__(self):
        return f"{self.cadence} — Day {self.day} {self.get_channel_display()}"


class Enrollment(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        EXITED = "exited", "Exited"

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="enrollments")
    cadence = models.ForeignKey(Cadence, on_delete=models.PROTECT, related_name="enrollments")
    started_at = models.DateTimeField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.ACTIVE)
    paused_at = models.DateTimeField(null=True, blank=True)
    # An automatic pause (an out-of-office reply) ends then: beat resumes the cadence.
    paused_until = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    exit_reason = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"], condition=Q(state__in=["active", "paused"]), name="one_running_enrollment_per_lead"
            )
        ]

    def __str__(self):
        return f"{self.lead} in {self.cadence} ({self.state})"


class TouchStatus(models.TextChoices):
    # Waiting for the step before it (cadences.sequence): not yet on Today, not yet dispatched.
    PENDING = "pending", "Waiting for the previous step"
    SCHEDULED = "scheduled", "Scheduled"
    PAUSED = "paused", "Paused"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled"


class Outcome(models.TextChoices):
    CONNECTED = "connected", "Connected"
    VOICEMAIL = "voicemail", "Left voicemail"
    NO_ANSWER = "no_answer", "No answer"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    NOT_INTERESTED = "not_interested", "Not interested"
    REPLIED = "replied", "Replied"
    APPOINTMENT = "appointment", "Appointment set"
    SENT = "sent", "Sent"


# A touch still to do: waiting for its turn, scheduled, paused with its cadence, or on its way to the provider.
OPEN_TOUCH_STATUSES = (TouchStatus.PENDING, TouchStatus.SCHEDULED, TouchStatus.PAUSED, TouchStatus.SENDING)
# Not yet started: what an exit cancels and a late rep shifts.
WAITING_TOUCH_STATUSES = (TouchStatus.PENDING, TouchStatus.SCHEDULED, TouchStatus.PAUSED)


class TouchPurpose(models.TextChoices):
    STEP = "", "Cadence step or task"
    APPOINTMENT_INVITE = "appointment_invite", "Appointment invite"
    APPOINTMENT_REMINDER = "appointment_reminder", "Appointment reminder"
    APPOINTMENT = "appointment", "Appointment"


# Outcomes that are a real attempt to reach the lead (the five-attempts rule counts these).
ATTEMPT_OUTCOMES = (
    Outcome.CONNECTED,
    Outcome.VOICEMAIL,
    Outcome.NO_ANSWER,
    Outcome.NOT_INTERESTED,
    Outcome.REPLIED,
    Outcome.APPOINTMENT,
    Outcome.SENT,
    Outcome.WRONG_NUMBER,
)


class TouchQuerySet(models.QuerySet):
    def open_tasks(self):
        """Manual tasks waiting for a rep (what Today lists)."""
        return self.filter(status=TouchStatus.SCHEDULED, automated=False)

    def due_automated(self, now):
        """Automated touches the dispatcher may claim at `now`."""
        return self.filter(status=TouchStatus.SCHEDULED, automated=True, due_at__lte=now)

    def still_open(self):
        return self.filter(status__in=OPEN_TOUCH_STATUSES)


class Touch(models.Model):
    """One step on one channel for one lead. The table is the dispatch queue."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="touches")
    enrollment = models.ForeignKey(Enrollment, null=True, blank=True, on_delete=models.CASCADE, related_name="touches")
    step = models.ForeignKey(CadenceStep, null=True, blank=True, on_delete=models.PROTECT, related_name="touches")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    automated = models.BooleanField(default=False)
    # Ad-hoc tasks (a reply to call back, a bounced email to fix) have a title instead of a step.
    title = models.CharField(max_length=200, blank=True)
    # Written by a rep (an answer from the app): sent instead of the step's template.
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    # The Message-ID this email answers (threading), set when a rep answers the lead's message.
    in_reply_to = models.CharField(max_length=500, blank=True)
    # The compose form's key (reactions.rep_messages): the same form posted twice (a double click,
    # a resend after a timeout) finds this touch instead of sending the message again.
    send_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    urgent = models.BooleanField(default=False)
    # Set by a snooze: the rep chose this task's time, so it is no longer an instant call or an
    # urgent task at the top of Today, but an ordinary task due then (today.selectors.instant_q).
    snoozed = models.BooleanField(default=False)
    purpose = models.CharField(max_length=30, choices=TouchPurpose.choices, blank=True, default=TouchPurpose.STEP)
    appointment = models.ForeignKey(
        "leads.Appointment", null=True, blank=True, on_delete=models.CASCADE, related_name="touches"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="touches"
    )
    due_at = models.DateTimeField()
    # Automated touches: not sent after this moment (skipped as "expired"); due_at + the step's freshness.
    expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=TouchStatus.choices, default=TouchStatus.SCHEDULED)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    note = models.TextField(blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    # Dispatch bookkeeping for automated touches.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Each claim gets a fresh token: a send task holding a stale token (re-claimed after a crash) does nothing.
    claim_token = models.UUIDField(null=True, blank=True)
    # Set right before the provider is called: from then on the reconciler asks the provider first.
    send_started_at = models.DateTimeField(null=True, blank=True)
    # The claim's lease (messaging/leases.py): held until then, by `claimed_by` once a worker took the
    # batch ("<node>/<incarnation>/<pid>"; empty while it waits in the broker). Set from the claim until
    # the touch is recorded or given back: a `sent` touch that still has one was never recorded.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    provider_message_id = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TouchQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name_plural = "touches"
        indexes = [
            # What the dispatcher asks every tick: automated touches due now.
            models.Index(
                fields=["due_at"], condition=Q(status="scheduled", automated=True), name="touch_due_automated"
            ),
            # What a rep's Today page asks: my open tasks by due time. PostgreSQL ranks them from the
            # index alone (an index-only scan), so the page does not visit one heap page per task.
            models.Index(
                fields=["assigned_to", "due_at"],
                condition=Q(status="scheduled", automated=False),
                include=["id", "lead", "step", "urgent", "snoozed", "channel", "purpose"],
                name="touch_open_tasks_covering",
            ),
            # The reports (reports/selectors/vocabulary.py): does this lead have a next action, and the
            # attempts and automated sends of a period (one index each side of touch_q's OR).
            models.Index(
                fields=["lead"],
                condition=Q(status__in=["pending", "scheduled", "paused", "sending"]),
                name="touch_open_by_lead",
            ),
            models.Index(
                fields=["completed_at"], condition=Q(status="done", automated=False), name="touch_attempts_by_time"
            ),
            models.Index(
                fields=["sent_at"],
                condition=Q(automated=True, status__in=["sent", "delivered"]),
                name="touch_sent_by_time",
            ),
            # Today's "done today" counter: a rep's tasks done since the start of their day.
            models.Index(
                fields=["completed_by", "completed_at"], condition=Q(status="done"), name="touch_done_by_user"
            ),
            # Stuck claims for the reconciler.
            models.Index(fields=["claimed_at"], condition=Q(status="sending"), name="touch_sending"),
            # Sent but not recorded yet (a worker died between the commit point and the record step).
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(status="sent", lease_expires_at__isnull=False),
                name="touch_sent_unrecorded",
            ),
            models.Index(fields=["lead", "due_at"]),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} for {self.lead_id} due {self.due_at:%Y-%m-%d %H:%M}"


class Snippet(models.Model):
    """A saved answer a rep can pick when writing to a lead (merge fields rendered like a step's)."""

    title = models.CharField(max_length=100)
    channel = models.CharField(max_length=10, choices=[(Channel.EMAIL, "Email"), (Channel.SMS, "SMS")])
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["channel", "title"]

    def __str__(self):
        return f"{self.get_channel_display()}: {self.title}"
