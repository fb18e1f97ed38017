from django.conf import settings
from django.db import models


class ReportDelivery(models.Model):
    """One Feedback Friday email sent to one person for one week: a manager's for their teams, or a
    rep's own summary.

    The row is claimed (inserted) before the email goes out: a second beat run for the same
    week hits the unique constraint and sends nothing. One row per person and week, whichever
    kind: nobody gets two Friday emails in a week.
    """

    class Kind(models.TextChoices):
        TEAM = "team", "Teams' Feedback Friday (manager)"
        OWN = "own", "Own summary (rep)"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_deliveries")
    week_start = models.DateField(help_text="Monday of the reported week (organisation timezone).")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEAM)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-week_start", "recipient_id"]
        verbose_name_plural = "report deliveries"
        constraints = [
            models.UniqueConstraint(fields=["recipient", "week_start"], name="report_delivery_once_per_person_week")
        ]

    def __str__(self):
        return f"Feedback Friday {self.week_start} to {self.recipient} ({self.get_kind_display()})"
