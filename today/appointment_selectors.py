"""Reads on appointments: who may see and work one, a meeting's open touch, a lead's upcoming meetings."""

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Role, User
from cadences.models import Touch, TouchPurpose, TouchStatus
from leads.models import Appointment, Lead
from leads.selectors import leads_visible_to


def appointments_workable_by(user: User) -> QuerySet[Appointment]:
    """A rep's own meetings (theirs, or on their leads); a manager's teams' and their own; an admin's all."""
    appointments = Appointment.objects.all()
    if user.is_superuser or user.role == Role.ADMIN:
        return appointments
    return appointments.filter(Q(rep=user) | Q(lead__in=leads_visible_to(user)))


def appointment_get_for(user: User, pk) -> Appointment:
    """The appointment `pk` if `user` may work it; 404 otherwise, so its existence is not revealed."""
    try:
        return appointments_workable_by(user).select_related("lead", "rep").get(pk=pk)
    except (Appointment.DoesNotExist, ValueError, TypeError):
        raise Http404("No such appointment.") from None


def appointment_touch_open(appointment: Appointment) -> Touch | None:
    """The rep's open touch of the meeting (its row on Today), if any."""
    return (
        Touch.objects.filter(appointment=appointment, purpose=TouchPurpose.APPOINTMENT, status=TouchStatus.SCHEDULED)
        .order_by("-pk")
        .first()
    )


def appointments_upcoming_for(lead: Lead) -> list[Appointment]:
    """The lead's scheduled meetings, soonest first, those already started included: they still
    wait to be marked held or no-show (one query)."""
    return list(Appointment.objects.filter(lead=lead, status=Appointment.Status.SCHEDULED).select_related("rep"))
