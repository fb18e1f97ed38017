"""Writes for reports: the Feedback Friday email to each manager."""

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Role, User
from reports.models import ReportDelivery
from reports.selectors.friday import friday_decorate, friday_report
from reports.selectors.period import current_week_start, week_start_for

logger = logging.getLogger(__name__)
# Flagged leads listed in the email; the page has them all.
EMAIL_LEAD_LIMIT = 100


def _managers_to_email():
    return (
        User.objects.filter(role=Role.MANAGER, is_active=True, managed_teams__isnull=False)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def feedback_friday_email_build(*, manager: User, week_start: dt.date, now: dt.datetime) -> EmailMultiAlternatives:
    """The manager's Feedback Friday for their teams: per-rep totals and the flagged leads."""
    report = friday_report(user=manager, week_start=week_start, now=now)
    flagged = [
        lead
        for lead in friday_decorate(report.leads[: EMAIL_LEAD_LIMIT * 5])
        if lead.left_behind or lead.overdue_tasks or lead.closed_early
    ][:EMAIL_LEAD_LIMIT]
    context = {
        "manager": manager,
        "report": report,
        "teams": list(manager.managed_teams.all()),
        "flagged": flagged,
        "week_end_day": report.week_start + dt.timedelta(days=6),
        "url": f"{settings.PUBLIC_BASE_URL}/reports/friday/?week={report.week_start:%Y-%m-%d}",
        "minimum": settings.MIN_ATTEMPTS_BEFORE_CLOSE,
    }
    subject = f"Feedback Friday — week of {report.week_start:%b %-d, %Y}"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("reports/email/friday.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[manager.email],
    )
    message.attach_alternative(render_to_string("reports/email/friday.html", context), "text/html")
    return message


def feedback_friday_send(*, week: dt.date | None = None, now: dt.datetime | None = None) -> int:
    """Email each manager their teams' Feedback Friday for `week` (default: the current week) once.

    Idempotent per manager and week: the ReportDelivery row is inserted (unique on manager +
    week) before the email goes out, so a second beat run, or two running at once, send
    nothing more. If sending fails the claim is removed so the next run retries; a crash
    between the claim and the send loses that one email rather than sending it twice.
    Returns the number of emails sent.
    """
    now = now or timezone.now()
    week_start = week_start_for(week) if week else current_week_start(now)
    sent = 0
    for manager in _managers_to_email():
        try:
            with transaction.atomic():
                delivery = ReportDelivery.objects.create(manager=manager, week_start=week_start)
        except IntegrityError:
            continue
        try:
            feedback_friday_email_build(manager=manager, week_start=week_start, now=now).send()
        except Exception:
            logger.exception("Feedback Friday email to %s failed", manager.pk)
            delivery.delete()
            continue
        ReportDelivery.objects.filter(pk=delivery.pk).update(sent_at=timezone.now())
        sent += 1
    return sent
