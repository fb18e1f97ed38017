"""What an appointment's touches say: the invite (an email carrying the iCalendar REQUEST) and the
reminders (email, SMS), from the appointment's rep, with the time in the LEAD's timezone.

messaging.dispatch hands every touch that has an appointment here (`appointment_message_for`).
A touch always renders to the same message, whenever it is built: the relative day of a reminder
("tomorrow") is counted from the touch's due time, not from the clock, because the reconciler
builds the message again and looks an SMS up at Twilio by its body.
"""

import datetime as dt
from email.utils import parseaddr
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from cadences.models import Channel, Touch, TouchPurpose
from leads.models import Appointment
from messaging import calendar_invite, transports
from messaging.reply_address import reply_to_for
from messaging.unsubscribe import unsubscribe_url

SMS_LOCATION_LIMIT = 100


def zone_named(name: str) -> ZoneInfo:
    """The zone `name`, or the organisation's when it is empty or unknown."""
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def lead_zone(lead) -> ZoneInfo:
    return zone_named(lead.timezone)


def clock_text(local: dt.datetime) -> str:
    """10:00 AM PST (a zone with no abbreviation gets its name: 10:00 AM Asia/Dubai)."""
    label = local.tzname() or ""
    if not label or label[0] in "+-":
        label = str(local.tzinfo)
    return f"{local.strftime('%I:%M %p').lstrip('0')} {label}"


def date_text(local: dt.datetime) -> str:
    """Thursday, December 3."""
    return f"{local:%A, %B} {local.day}"


def when_text(appointment: Appointment, *, seen_from: dt.datetime | None = None) -> str:
    """The start in the lead's zone: "on Thursday, December 3 at 10:00 AM PST", or "today at …" /
    "tomorrow at …" when seen from `seen_from` (a reminder's due time)."""
    zone = lead_zone(appointment.lead)
    local = appointment.starts_at.astimezone(zone)
    day = f"on {date_text(local)}"
    if seen_from is not None:
        days = (local.date() - seen_from.astimezone(zone).date()).days
        day = {0: "today", 1: "tomorrow"}.get(days, day)
    return f"{day} at {clock_text(local)}"


def _rep_name(rep) -> str:
    return (rep.get_full_name() or rep.username) if rep else settings.ORGANIZATION_NAME


def _organizer(rep) -> tuple[str, str]:
    """(name, address) of the invite's ORGANIZER: the rep, at the sender's address when they have none."""
    _, sender = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return _rep_name(rep), (rep.email if rep and rep.email else sender)


def _no_line_breaks(**values: str) -> None:
    for name, value in values.items():
        if "\n" in value or "\r" in value:
            # A lead or rep saved with a line break in its name (before the input rule, or in the admin).
            raise ValueError(f"the {name} would contain a line break: fix the lead's or the rep's details")


def appointment_message_for(touch: Touch) -> transports.OutgoingMessage:
    """The invite or reminder `touch` sends for its appointment."""
    appointment = Appointment.objects.select_related("lead", "rep").get(pk=touch.appointment_id)
    lead, rep = appointment.lead, appointment.rep
    if touch.channel == Channel.SMS:
        return transports.OutgoingMessage(
            channel="sms", to=lead.phone, body=reminder_sms_text(appointment, touch), touch_id=touch.pk, lead_id=lead.pk
        )
    if touch.purpose == TouchPurpose.APPOINTMENT_INVITE:
        subject, body = invite_text(appointment)
    else:
        subject, body = reminder_email_text(appointment, touch)
    link = unsubscribe_url(lead=lead)
    footer = (
        f"\n\n--\n{_rep_name(rep)}\n{settings.ORGANIZATION_NAME}, {settings.ORGANIZATION_POSTAL_ADDRESS}\n"
        f"Don't want these emails? Unsubscribe: {link}"
    )
    headers = {
        "List-Unsubscribe": f"<{link}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Reply-To": reply_to_for(lead.pk),  # a reply to an invite finds its lead too
    }
    _no_line_breaks(subject=subject, address=lead.email, **headers)
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ")
    alternatives, attachments = (), ()
    if touch.purpose == TouchPurpose.APPOINTMENT_INVITE:
        name, address = _organizer(rep)
        _no_line_breaks(organizer=name, attendee=lead.full_name)
        ics = calendar_invite.invite_ics(
            appointment=appointment,
            organizer_name=name,
            organizer_email=address,
            summary=f"{settings.ORGANIZATION_NAME}: {lead.full_name} and {name}",
            description=f"Your meeting with {name} of {settings.ORGANIZATION_NAME}.",
        )
        # Inline for the clients that show it as an invite (Gmail, Outlook), as a file for the others.
        alternatives = ((ics.decode("utf-8"), calendar_invite.MIMETYPE),)
        attachments = ((calendar_invite.FILENAME, ics, "application/ics"),)
    return transports.OutgoingMessage(
        channel="email",
        to=lead.email,
        subject=subject,
        body=body + footer,
        touch_id=touch.pk,
        lead_id=lead.pk,
        message_id=f"<touch-{touch.pk}@{domain}>",
        headers=headers,
        alternatives=alternatives,
        attachments=attachments,
    )


def _where(appointment: Appointment) -> str:
    return f"\nWhere: {appointment.location}" if appointment.location else ""


def invite_text(appointment: Appointment) -> tuple[str, str]:
    lead, name = appointment.lead, _rep_name(appointment.rep)
    local = appointment.starts_at.astimezone(lead_zone(lead))
    updated = appointment.sequence > 0
    subject = (
        f"{'Updated invitation' if updated else 'Invitation'}: meeting with {name}, "
        f"{local:%a %b} {local.day} at {clock_text(local)}"
    )
    opening = "Our meeting has moved. The new time:" if updated else "Thank you for your time! Our meeting is booked:"
    body = (
        f"Hi {lead.first_name},\n\n{opening}\n\n"
        f"When: {date_text(local)}, {local.year} at {clock_text(local)} ({appointment.duration_minutes} minutes)"
        f"{_where(appointment)}\nWith: {name}, {settings.ORGANIZATION_NAME}\n\n"
        "The calendar invitation is attached: accept it to keep the meeting in your calendar.\n"
        "If the time doesn't suit you, just reply and we'll find another.\n\n"
        f"Talk soon,\n{name}"
    )
    return subject, body


def reminder_email_text(appointment: Appointment, touch: Touch) -> tuple[str, str]:
    lead, name = appointment.lead, _rep_name(appointment.rep)
    when = when_text(appointment, seen_from=touch.due_at)
    subject = f"Reminder: your meeting with {name} {when}"
    body = (
        f"Hi {lead.first_name},\n\nA quick reminder of our meeting {when} "
        f"({appointment.duration_minutes} minutes).{_where(appointment)}\n\n"
        f"If something came up, just reply and we'll find another time.\n\nSee you then,\n{name}"
    )
    return subject, body


def reminder_sms_text(appointment: Appointment, touch: Touch) -> str:
    lead = appointment.lead
    who = appointment.rep.first_name if appointment.rep and appointment.rep.first_name else _rep_name(appointment.rep)
    where = ""
    if appointment.location:
        where = f" Where: {appointment.location[:SMS_LOCATION_LIMIT]}."
    return (
        f"Hi {lead.first_name}, a reminder: your meeting with {who} ({settings.ORGANIZATION_NAME}) is "
        f"{when_text(appointment, seen_from=touch.due_at)}.{where} Reply STOP to opt out."
    )
