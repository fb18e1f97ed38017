"""Writes for reports: the Feedback Friday emails — each manager's for their teams, each rep's own
summary — and a person's choice to get their own summary or not."""

import datetime as dt
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from reports.models import ReportDelivery
from reports.selectors.friday import friday_flagged, friday_rep_lines, friday_report
from reports.selectors.period import current_week_start, week_bounds, week_start_for
from reports.selectors.vocabulary import definitions

logger = logging.getLogger(__name__)
# Flagged leads listed in an email, of each kind; the page has them all.
EMAIL_LEAD_LIMIT = 100


def _managers_to_email():
    return (
        User.objects.filter(role=Role.MANAGER, is_active=True, managed_teams__isnull=False)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def _reps_to_email():
    return (
        User.objects.filter(role=Role.REP, is_active=True, weekly_summary_email=True).exclude(email="").order_by("pk")
    )


def _absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def _week_context(*, user: User, week_start: dt.date, now: dt.datetime) -> dict:
    """What both emails show: the week's lines (each with last week's beside it) and flagged leads."""
    report = friday_report(user=user, week_start=week_start, now=now)
    previous_start, previous_end = week_bounds(report.week_start - dt.timedelta(days=7))
    previous_reps, previous = friday_rep_lines(user=user, start=previous_start, end=previous_end)
    last_week = {person.pk: person for person in previous_reps}
    for person in report.reps:
        person.last_week = last_week.get(person.pk)
    flagged = friday_flagged(report, now=now, limit=EMAIL_LEAD_LIMIT)
    for lead in flagged["left_behind"] + flagged["closed_early"]:
        lead.url = _absolute(reverse("leads:detail", args=[lead.pk]))
    return {
        "report": report,
        "previous": previous,
        "left_behind": flagged["left_behind"],
        "closed_early": flagged["closed_early"],
        "limit": EMAIL_LEAD_LIMIT,
        "week_end_day": report.week_start + dt.timedelta(days=6),
        "url": _absolute(f"{reverse('reports:friday')}?week={report.week_start:%Y-%m-%d}"),
        "minimum": settings.MIN_ATTEMPTS_BEFORE_CLOSE,
        "definitions": definitions(),
    }


def _message(*, to: User, subject: str, template: str, context: dict) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to.email],
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def feedback_friday_email_build(*, manager: User, week_start: dt.date, now: dt.datetime) -> EmailMultiAlternatives:
    """The manager's Feedback Friday for their teams: each rep's line, the comparison with last week,
    the left-behind and closed-early leads with links."""
    context = _week_context(user=manager, week_start=week_start, now=now)
    context.update(manager=manager, teams=list(manager.managed_teams.all()))
    subject = f"Feedback Friday — week of {context['report'].week_start:%b %-d, %Y}"
    return _message(to=manager, subject=subject, template="reports/email/friday", context=context)


def rep_summary_email_build(*, rep: User, week_start: dt.date, now: dt.datetime) -> EmailMultiAlternatives | None:
    """The rep's own summary: their line, last week's beside it, their left-behind leads; None
    when they owned no lead that week (nothing to say)."""
    context = _week_context(user=rep, week_start=week_start, now=now)
    person = next((p for p in context["report"].reps if p.pk == rep.pk), None)
    if person is None or not person.owned:
        return None
    context.update(rep=rep, person=person, settings_url=_absolute(reverse("reports:weekly_email")))
    subject = f"Your week — Feedback Friday, week of {context['report'].week_start:%b %-d, %Y}"
    return _message(to=rep, subject=subject, template="reports/email/rep_summary", context=context)


def _deliver(*, recipient: User, week_start: dt.date, kind: str, build: Callable) -> bool:
    """Claim (recipient, week), build and send; True when an email went out."""
    try:
        with transaction.atomic():
            delivery = ReportDelivery.objects.create(recipient=recipient, week_start=week_start, kind=kind)
    except IntegrityError:
        return False
    try:
        message = build()
        if message is None:
            delivery.delete()
            return False
        message.send()
    except Exception:
        logger.exception("Feedback Friday email (%s) to user %s failed", kind, recipient.pk)
        delivery.delete()
        return False
    ReportDelivery.objects.filter(pk=delivery.pk).update(sent_at=timezone.now())
    return True


def feedback_friday_send(*, week: dt.date | None = None, now: dt.datetime | None = None) -> int:
    """Email each manager their teams' Feedback Friday, and each rep who wants it their own summary,
    for `week` (default: the current week), once.

    Exactly once per person and week: the ReportDelivery row is inserted (unique on recipient +
    week) before the email goes out, so a second beat run, or two running at once, send nothing
    more. If building or sending fails the claim is removed so the next run retries; a crash
    between the claim and the send loses that one email rather than sending it twice. A rep
    who turned the summary off (User.weekly_summary_email) or owned no lead that week gets none.
    Returns the number of emails sent.
    """
    now = now or timezone.now()
    week_start = week_start_for(week) if week else current_week_start(now)
    sent = 0
    for manager in _managers_to_email():
        sent += _deliver(
            recipient=manager,
            week_start=week_start,
            kind=ReportDelivery.Kind.TEAM,
            build=lambda manager=manager: feedback_friday_email_build(manager=manager, week_start=week_start, now=now),
        )
    for rep in _reps_to_email():
        sent += _deliver(
            recipient=rep,
            week_start=week_start,
            kind=ReportDelivery.Kind.OWN,
            build=lambda rep=rep: rep_summary_email_build(rep=rep, week_start=week_start, now=now),
        )
    return sent


def weekly_summary_email_set(*, user: User, enabled: bool) -> User:
    """Turn the person's own weekly summary email on or off."""
    User.objects.filter(pk=user.pk).update(weekly_summary_email=enabled)
    user.weekly_summary_email = enabled
    return user
