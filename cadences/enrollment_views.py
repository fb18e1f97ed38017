"""A lead's cadence panel: see, start, pause, resume or end its enrolment (any user who can see the lead)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from cadences.models import WAITING_TOUCH_STATUSES, Cadence, Enrollment
from cadences.services import RUNNING, enrollment_exit, enrollment_pause, enrollment_resume
from leads.selectors import lead_get_for
from reactions.cadence import cadence_start


def _panel(request, lead, *, status=200):
    enrollment = (
        Enrollment.objects.filter(lead=lead, state__in=RUNNING).select_related("cadence").first()
        or Enrollment.objects.filter(lead=lead).select_related("cadence").order_by("-started_at").first()
    )
    remaining = enrollment.touches.filter(status__in=WAITING_TOUCH_STATUSES).count() if enrollment else 0
    context = {
        "lead": lead,
        "enrollment": enrollment,
        "running": enrollment is not None and enrollment.state in RUNNING,
        "remaining": remaining,
        "cadences": Cadence.objects.filter(active=True).order_by("name") if lead.is_open else [],
    }
    return render(request, "cadences/_lead_enrollment.html", context, status=status)


def _respond(request, lead, action, *args, success: str):
    try:
        action(*args)
    except ValidationError as exc:
        message = " ".join(exc.messages)
        if request.htmx:
            response = _panel(request, lead, status=400)
            response.content = response.content.replace(
                b"<!--error-->", format_html('<div class="alert alert-danger py-1">{}</div>', message).encode()
            )
            return response
        messages.error(request, message)
        return redirect("leads:detail", lead.pk)
    if request.htmx:
        return _panel(request, lead)
    messages.success(request, success)
    return redirect("leads:detail", lead.pk)


@login_required
def lead_enrollment_panel(request, lead_id):
    return _panel(request, lead_get_for(request.user, lead_id))


@login_required
@require_POST
def lead_enrollment_start(request, lead_id):
    lead = lead_get_for(request.user, lead_id)
    cadence = get_object_or_404(Cadence, pk=request.POST.get("cadence") or 0, active=True)
    return _respond(
        request,
        lead,
        lambda: cadence_start(lead=lead, cadence=cadence, by=request.user),
        success=f"{lead} started {cadence}.",
    )


def _running(lead):
    enrollment = Enrollment.objects.filter(lead=lead, state__in=RUNNING).first()
    if enrollment is None:
        raise ValidationError("This lead is not in a running cadence.")
    return enrollment


@login_required
@require_POST
def lead_enrollment_pause(request, lead_id):
    lead = lead_get_for(request.user, lead_id)
    return _respond(
        request, lead, lambda: enrollment_pause(enrollment=_running(lead), by=request.user), success="Cadence paused."
    )


@login_required
@require_POST
def lead_enrollment_resume(request, lead_id):
    lead = lead_get_for(request.user, lead_id)
    return _respond(
        request, lead, lambda: enrollment_resume(enrollment=_running(lead), by=request.user), success="Cadence resumed."
    )


@login_required
@require_POST
def lead_enrollment_exit(request, lead_id):
    lead = lead_get_for(request.user, lead_id)

    def end():
        _running(lead)
        enrollment_exit(lead=lead, reason="ended by hand", by=request.user)

    return _respond(request, lead, end, success="Cadence ended.")
