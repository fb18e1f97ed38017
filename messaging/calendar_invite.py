"""The iCalendar invite of an appointment (RFC 5545, METHOD:REQUEST, with the `icalendar` library).

One meeting keeps one UID (the appointment's) for its whole life; each reschedule bumps SEQUENCE,
so the lead's calendar replaces the event instead of adding a second one (RFC 5546 §2.1.4).
Times are UTC ("…Z"): every calendar shows them in its owner's zone, no VTIMEZONE needed.
"""

import datetime as dt

from icalendar import Calendar, Event, vCalAddress

from leads.models import Appointment

PRODID = "-//LeadFollow//Appointments//EN"
MIMETYPE = "text/calendar; method=REQUEST"
FILENAME = "invite.ics"


def invite_ics(
    *, appointment: Appointment, organizer_name: str, organizer_email: str, summary: str, description: str = ""
) -> bytes:
    """The VCALENDAR of a REQUEST for `appointment`: the rep organises, the lead attends.

    DTSTAMP is when the appointment was last changed, not the moment of rendering: the same
    touch renders to the same invite however often it is built (the reconciler builds it again)."""
    lead = appointment.lead
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", str(appointment.uid))
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", (appointment.updated_at or appointment.created_at).astimezone(dt.UTC).replace(microsecond=0))
    start = appointment.starts_at.astimezone(dt.UTC).replace(microsecond=0)
    event.add("dtstart", start)
    event.add("dtend", start + dt.timedelta(minutes=appointment.duration_minutes))
    event.add("summary", summary)
    if description:
        event.add("description", description)
    if appointment.location:
        event.add("location", appointment.location)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = organizer_name
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{lead.email}")
    attendee.params.update(
        {"cn": lead.full_name, "role": "REQ-PARTICIPANT", "partstat": "NEEDS-ACTION", "rsvp": "TRUE"}
    )
    event.add("attendee", attendee)
    calendar.add_component(event)
    return calendar.to_ical()
