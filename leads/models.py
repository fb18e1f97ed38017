import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    WORKING = "working", "Working"
    APPOINTMENT = "appointment", "Appointment set"
    NURTURING = "nurturing", "Nurturing"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    UNQUALIFIED = "unqualified", "Unqualified"


OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.APPOINTMENT, LeadStatus.NURTURING)
CLOSED_STATUSES = (LeadStatus.WON, LeadStatus.LOST, LeadStatus.UNQUALIFIED)
# Closing as one of these needs the minimum number of attempts (or a manager's override).
GIVE_UP_STATUSES = (LeadStatus.LOST, LeadStatus.UNQUALIFIED)


class LeadQuerySet(models.QuerySet):
    def open(self):
        """Leads still being worked: new, working, appointment set or nurturing."""
        return self.filter(status__in=OPEN_STATUSES)

    def with_email(self, email: str):
        """Leads with this email, case-insensitively, as the lead_unique_open_email index compares it.

        `lower(email) = lower(%s)` (not `email__iexact`, which is `UPPER(...)`) plus the index's own
        `email <> ''`: on `open()` PostgreSQL can answer it from that partial index.
        """
        return self.exclude(email="").alias(email_lower=Lower("email")).filter(email_lower=Lower(Value(email)))


class LeadSource(models.Model):
    name = models.CharField(max_length=100, unique=True)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="lead_sources"
    )
    # API keys look like "lf_<prefix>.<secret>"; only the prefix and a SHA-256 of the whole key are kept.
    api_key_prefix = models.CharField(max_length=16, unique=True, null=True, blank=True, editable=False)
    api_key_hash = models.CharField(max_length=64, blank=True, editable=False)
    api_key_revoked_at = models.DateTimeField(null=True, blank=True)
    cost_per_lead = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Lead(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +14155550123")
    email = models.EmailField(max_length=254, blank=True)
    company = models.CharField(max_length=200, blank=True)
    source = models.ForeignKey(LeadSource, null=True, blank=True, on_delete=models.PROTECT, related_name="leads")
    how_heard = models.CharField("how did you hear about us", max_length=300, blank=True)
    interest = models.CharField("why are you contacting us", max_length=1000, blank=True)
    status = models.CharField(max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    # Denormalised from the owner (or the source when unassigned): managers' scope is one indexed filter.
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads")
    # The zone the lead's days are counted in and shown in. Taken from the phone number it is a guess
    # when the number may be in several zones (timezone_candidates); it is confirmed only by an explicit
    # act: a zone given at intake (API, CSV, the intake form) or chosen by a rep on the lead's edit page.
    timezone = models.CharField(max_length=64)
    # Every zone the phone number may be in (phonenumbers), sorted; [] when unknown or no phone.
    timezone_candidates = models.JSONField(default=list, blank=True)
    timezone_confirmed = models.BooleanField(default=False)
    email_opt_out = models.BooleanField(default=False)
    sms_opt_out = models.BooleanField(default=False)
    call_opt_out = models.BooleanField(default=False)
    # Set by permanent provider failures: a bounced address, a landline or invalid number.
    email_invalid = models.BooleanField(default=False)
    sms_unusable = models.BooleanField(default=False)
    # "Wrong number": no calls or texts to it until the number is changed.
    phone_invalid = models.BooleanField("wrong number", default=False)
    twitter_handle = models.CharField(max_length=50, blank=True)
    linkedin_url = models.URLField(blank=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    last_touch_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=300, blank=True)
    # Counters kept by the services that log outcomes: lists and reports read them without joins.
    attempt_count = models.PositiveIntegerField(default=0)
    objection_count = models.PositiveIntegerField("number of nos", default=0)
    referred_by = models.ForeignKey(
        "leads.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals"
    )
    # Who changed what, when (django-simple-history; the user comes from HistoryRequestMiddleware).
    history = HistoricalRecords()

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # No two open leads share a phone or an email: concurrent intakes collide here.
            models.UniqueConstraint(
                fields=["phone"],
                condition=Q(status__in=OPEN_STATUSES) & ~Q(phone=""),
                name="lead_unique_open_phone",
            ),
            models.UniqueConstraint(
                Lower("email"),
                condition=Q(status__in=OPEN_STATUSES) & ~Q(email=""),
                name="lead_unique_open_email",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["team", "status"]),
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["phone"]),
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def timezone_uncertain(self) -> bool:
        """The number may be in several zones and nobody has said which: quiet hours hold in all of them."""
        return not self.timezone_confirmed and len(self.timezone_candidates or []) > 1

    @property
    def contact_timezones(self) -> list[str]:
        """The zones the contact window must hold in: every candidate while uncertain, else the lead's zone."""
        return sorted(self.timezone_candidates) if self.timezone_uncertain else [self.timezone]


class Appointment(models.Model):
    """A meeting a rep booked with a lead ("Appointment set"): invite, reminders and a Today row are touches."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        HELD = "held", "Held"
        NO_SHOW = "no_show", "No-show"
        CANCELLED = "cancelled", "Cancelled"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="appointments")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="rep_appointments"
    )
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=30)
    location = models.CharField(max_length=300, blank=True, help_text="An address, a phone number or a video link.")
    note = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    # iCalendar: one UID for the meeting, SEQUENCE bumped on each reschedule so calendars update it.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["rep", "starts_at"])]

    def __str__(self):
        return f"{self.lead} at {self.starts_at:%Y-%m-%d %H:%M}"


class LeadEvent(models.Model):
    """One line of a lead's timeline."""

    class Kind(models.TextChoices):
        INQUIRY = "inquiry", "Inquiry"
        NOTE = "note", "Note"
        STATUS = "status", "Status change"
        ASSIGNMENT = "assignment", "Assignment"
        TOUCH = "touch", "Touch"
        MESSAGE_IN = "message_in", "Message received"
        MESSAGE_OUT = "message_out", "Message sent"
        ENROLLMENT = "enrollment", "Cadence"
        MERGE = "merge", "Merge"
        OPT_OUT = "opt_out", "Opt-out"
        EDIT = "edit", "Edit"
        APPOINTMENT = "appointment", "Appointment"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    text = models.TextField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["lead", "-created_at"])]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text[:50]}"


class Contact(models.Model):
    """A customer: a won lead, or imported. Reps call a few each day for referrals."""

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    company = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    lead = models.OneToOneField(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="contact")
    created_at = models.DateTimeField(auto_now_add=True)
    last_referral_call_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["owner", "last_referral_call_at"])]

    def __str__(self):
        return f"{self.first_name} {self.last_name}".strip()


class ImportJob(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(LeadSource, null=True, blank=True, on_delete=models.SET_NULL)
    # Every imported lead goes to this user; blank: round-robin within the source's team.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255)
    content = models.TextField(help_text="The uploaded CSV, decoded to text.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text='[{"row": 3, "reason": "..."}]')
    warnings = models.JSONField(default=list, blank=True, help_text="Notes about the file, e.g. its encoding.")
    failure_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When a run last saved progress (or the job was last queued). A job that stays running or
    # waiting past intake.imports.IMPORT_STALLED_AFTER lost its worker or its task, and is resumed.
    progress_at = models.DateTimeField(null=True, blank=True)
    # processed_rows when it was last resumed that way: stopping again there, it is failed instead.
    auto_resumed_at_row = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Import {self.filename} ({self.get_status_display()})"

    @property
    def percent(self):
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class IdempotencyRecord(models.Model):
    """The first response to an API request with an Idempotency-Key, replayed for repeats."""

    source = models.ForeignKey(LeadSource, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "key"], name="idempotency_unique_key")]

    def __str__(self):
        return f"{self.source_id}:{self.key}"
