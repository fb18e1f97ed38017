from django.conf import settings
from django.db import models


class ReportDelivery(models.Model):
    """One Feedback Friday email sent to one manager for one week.

    The row is claimed (inserted) before the email goes out: a second beat run for the same
    week hits the unique constraint and sends nothing.
    """

    manager = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_deliveries")
    week_start = models.DateField(help_text="Monday of the reported week (organisation timezone).")
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-week_start", "manager_id"]
        verbose_name_plural = "report deliveries"
        constraints = [
            models.UniqueConstraint(fields=["manager", "week_start"], name="report_delivery_once_per_manager_week")
        ]

    def __str__(self):
        return f"Feedback Friday {self.week_start} to {self.manager}"
