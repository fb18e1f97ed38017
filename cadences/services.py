"""Writes on cadences: enrolment, scheduling touches, logging outcomes, exits. (Engine in progress.)"""

from django.db import transaction

from cadences.models import Enrollment, Touch, TouchStatus


def enrollment_start_for_new_lead(*, lead, by=None):
    """Enrol a new lead in the cadence its rules pick. Filled in by the cadence engine."""
    return None


def enrollment_exit(*, lead, reason: str) -> None:
    """End the lead's running enrollment and cancel what it still had scheduled."""
    with transaction.atomic():
        running = Enrollment.objects.filter(lead=lead, state__in=[Enrollment.State.ACTIVE, Enrollment.State.PAUSED])
        for enrollment in running:
            Touch.objects.filter(enrollment=enrollment, status=TouchStatus.SCHEDULED).update(
                status=TouchStatus.CANCELLED
            )
        running.update(state=Enrollment.State.EXITED, exit_reason=reason)
