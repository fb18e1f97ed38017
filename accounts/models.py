from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    REP = "rep", "Sales rep"
    MANAGER = "manager", "Sales manager"
    ADMIN = "admin", "Administrator"


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    managers = models.ManyToManyField(
        "accounts.User", related_name="managed_teams", blank=True, limit_choices_to={"role": "manager"}
    )
    # Round-robin cursor: the rep who got the last lead assigned in this team.
    last_assigned_rep = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REP)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    phone = models.CharField(max_length=20, blank=True, help_text="E.164; new-lead alerts go here by SMS.")
    timezone = models.CharField(max_length=64, default="America/New_York")
    work_start_hour = models.PositiveSmallIntegerField(default=9)
    work_end_hour = models.PositiveSmallIntegerField(default=17)
    # Reps away (holiday, left the company) get no new leads by round-robin.
    accepts_new_leads = models.BooleanField(default=True)
    # A rep's own Feedback Friday (their line, their left-behind leads); managers get their teams' regardless.
    weekly_summary_email = models.BooleanField(
        "weekly summary email", default=True, help_text="Email me my own Feedback Friday summary every week."
    )

    class Meta:
        ordering = ["username"]

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def is_rep(self):
        return self.role == Role.REP

    @property
    def is_manager(self):
        return self.role == Role.MANAGER

    @property
    def is_admin_role(self):
        return self.role == Role.ADMIN or self.is_superuser


class Notification(models.Model):
    """Something a user must see: a duplicate inquiry on their lead, a reply, a new lead."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self):
        return self.text
