"""Appointments on pages: a moment on a given clock, and a lead's upcoming meetings."""

from django import template

from messaging.appointment_messages import zone_named
from today.appointment_selectors import appointments_upcoming_for

register = template.Library()


@register.filter
def clock_in(moment, zone_name: str) -> str:
    """ "Thu 3 Dec 10:00 PST": `moment` on the clock of `zone_name` (the organisation's when empty)."""
    if not moment:
        return ""
    local = moment.astimezone(zone_named(zone_name or ""))
    return f"{local:%a} {local.day} {local:%b %H:%M} {local.tzname()}"


@register.simple_tag
def upcoming_appointments(lead) -> list:
    """The lead's scheduled meetings, soonest first (one query)."""
    return appointments_upcoming_for(lead)
