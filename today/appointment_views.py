"""The appointment dialog and the one-click actions on a meeting: book, reschedule, no-show, held.

htmx swaps the dialog into a Today row (GET), and its POST answers like any outcome: the row
is replaced by the lead's next task due today, or leaves, the lead's other rows with it. Bad
input shows the dialog again, errors inside it and nothing typed lost (an htmx answer is a 200
retargeted at the dialog: htmx swaps no 4xx). Without htmx the same URLs are whole pages.
Scope: reps their own tasks and meetings, managers their teams', admins all; 404 otherwise.
"""

import datetime as dt
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from cadences.models import Touch, TouchStatus
from leads.models import Appointment
from messaging.appointment_messages import zone_named
from reactions.appointments import appointment_book, appointment_held, appointment_no_show, appointment_reschedule
from today import selectors
from today.appointment_forms import AppointmentForm
from today.appointment_selectors import appointment_get_for, appointment_touch_open
from today.row_links import row_links_attach

# Where a service's error keys show in the dialog.
FIELD_FOR_ERROR = {"starts_at": "time", "duration": "duration", "location": "location", "note": "note"}
SUGGESTED_HOUR = 10


def _rep_zone(user):
    return zone_named(getattr(user, "timezone", "") or "")


def _clock(moment: dt.datetime, zone) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %H:%M} {local.tzname()}"


def _suggested_start(lead_tz) -> dt.datetime:
    """Tomorrow at 10:00 on the lead's clock: a time a rep can change, never one in the past."""
    tomorrow = timezone.now().astimezone(lead_tz).date() + dt.timedelta(days=1)
    return dt.datetime.combine(tomorrow, dt.time(SUGGESTED_HOUR), tzinfo=lead_tz)


def _dialog(request, *, form, lead, rep, action, key, title, submit, success_target, status=200, problem=""):
    """The dialog: as a fragment for htmx (retargeted at itself after a failed POST), else a page."""
    preview = form.starts_at_preview()
    rep_tz = _rep_zone(rep)
    context = {
        "form": form,
        "lead": lead,
        "rep": rep,
        "action": action,
        "key": key,
        "title": title,
        "submit": submit,
        "success_target": success_target,
        "problem": problem,
        "lead_tz": form.lead_tz,
        "rep_tz": rep_tz,
        "same_zone": str(rep_tz) == str(form.lead_tz),
        # Formatted here: a template would show an aware datetime on the active zone's clock.
        "starts_lead": _clock(preview, form.lead_tz) if preview else "",
        "starts_rep": _clock(preview, rep_tz) if preview else "",
        "full_page": not request.htmx,
        "next": request.POST.get("next") or request.GET.get("next") or "",
    }
    if not request.htmx:
        return render(request, "today/appointment.html", context, status=status)
    response = HttpResponse(render_to_string("today/_appointment_dialog.html", context, request=request))
    if request.method == "POST":
        response["HX-Retarget"] = f"#appointment-dialog-{key}"
        response["HX-Reswap"] = "outerHTML"
    return response


def _service_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            form.add_error(FIELD_FOR_ERROR.get(key) if FIELD_FOR_ERROR.get(key) in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _back(request, fallback: str):
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect(fallback)


def _rows_response(request, *, old: Touch | None, rep, done: str, lead_ended: int | None = None):
    """htmx, as after any outcome (today/views.py): the row of `old` becomes the lead's next row
    when it is due today (a meeting booked for today is one), else a confirmation naming what comes
    next; `lead_ended`: the lead's cadence is over, its other rows leave the page."""
    row = selectors.touch_next_for_lead(touch=old, rep=rep) if old is not None and rep is not None else None
    notice = ""
    if row is None and old is not None:
        nxt = selectors.lead_next_touch(lead_id=old.lead_id)
        notice = f"{done} — next: {selectors.next_label(nxt, rep=rep)}" if nxt else done
    html = render_to_string(
        "today/_swap.html",
        {
            "old": old,
            "touch": row,
            "notice": notice,
            "notice_fades": True,
            "counters": selectors.task_counters(rep=rep or request.user),
        },
        request=request,
    )
    response = HttpResponse(html)
    if lead_ended is not None and row is None:
        # The cadence's rows of the lead leave (static/js/today.js); a row swapped in would go with them.
        response["HX-Trigger-After-Swap"] = json.dumps({"today:lead-ended": {"lead": lead_ended}})
    return response


@require_http_methods(["GET", "POST"])
@login_required
def appointment_new(request, pk):
    """ "Appointment set" on a Today row: GET the dialog (with typed values: a preview of both clocks), POST book."""
    touch = selectors.touch_get_for(request.user, pk)
    if request.method == "GET" and request.GET.get("cancel"):
        return HttpResponse("")  # the dialog's Cancel: htmx removes it
    lead, rep = touch.lead, touch.assigned_to or touch.lead.owner or request.user
    lead_tz = zone_named(lead.timezone)
    url = reverse("today:appointment_new", args=[touch.pk])
    dialog = {
        "lead": lead,
        "rep": rep,
        "action": url,
        "key": f"touch-{touch.pk}",
        "title": f"Appointment with {lead.full_name}",
        "submit": "Book appointment",
        "success_target": f"#touch-{touch.pk}",
    }
    if request.method == "GET":
        if request.GET.get("date") or request.GET.get("time"):
            form = AppointmentForm(request.GET, lead_tz=lead_tz, auto_id=f"appt-{touch.pk}-%s")
        else:
            start = _suggested_start(lead_tz)
            form = AppointmentForm(
                initial={"date": start.date(), "time": start.time(), "duration": 30},
                lead_tz=lead_tz,
                auto_id=f"appt-{touch.pk}-%s",
            )
        problem = "" if touch.status == TouchStatus.SCHEDULED else "This task is already done or no longer scheduled."
        return _dialog(request, form=form, problem=problem, **dialog)
    form = AppointmentForm(request.POST, lead_tz=lead_tz, auto_id=f"appt-{touch.pk}-%s")
    if form.is_valid():
        try:
            appointment = appointment_book(
                touch_or_lead=touch,
                starts_at=form.cleaned_data["starts_at"],
                duration=form.cleaned_data["duration"],
                location=form.cleaned_data["location"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except PermissionDenied:
            raise Http404("No such task.") from None
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            if request.htmx:
                done = "Logged: Appointment set — the cadence has ended"
                return _rows_response(request, old=touch, rep=touch.assigned_to, done=done, lead_ended=lead.pk)
            messages.success(request, f"Appointment booked with {lead.full_name}: {_both_clocks(appointment)}.")
            return _back(request, reverse("today:index"))
    return _dialog(request, form=form, status=400, **dialog)


def _both_clocks(appointment: Appointment) -> str:
    text = f"{_clock(appointment.starts_at, zone_named(appointment.lead.timezone))} for the lead"
    if appointment.rep is not None and appointment.rep.timezone != appointment.lead.timezone:
        text += f", {_clock(appointment.starts_at, zone_named(appointment.rep.timezone))} for {appointment.rep}"
    return text


@require_http_methods(["GET", "POST"])
@login_required
def appointment_reschedule_view(request, pk):
    """Move a meeting: GET the dialog filled with its time, POST the new one (a new invite goes)."""
    appointment = appointment_get_for(request.user, pk)
    if request.method == "GET" and request.GET.get("cancel"):
        return HttpResponse("")
    lead, rep = appointment.lead, appointment.rep or request.user
    lead_tz = zone_named(lead.timezone)
    row = appointment_touch_open(appointment)
    dialog = {
        "lead": lead,
        "rep": rep,
        "action": reverse("today:appointment_reschedule", args=[appointment.pk]),
        "key": f"appointment-{appointment.pk}",
        "title": f"Reschedule the appointment with {lead.full_name}",
        "submit": "Move appointment",
        "success_target": f"#touch-{row.pk}" if row else f"#appointment-dialog-appointment-{appointment.pk}",
    }
    auto_id = f"resched-{appointment.pk}-%s"
    if request.method == "GET":
        if request.GET.get("date") or request.GET.get("time"):
            form = AppointmentForm(request.GET, lead_tz=lead_tz, auto_id=auto_id)
        else:
            local = appointment.starts_at.astimezone(lead_tz)
            form = AppointmentForm(
                initial={
                    "date": local.date(),
                    "time": local.time().replace(second=0, microsecond=0),
                    "duration": appointment.duration_minutes,
                    "location": appointment.location,
                    "note": appointment.note,
                },
                lead_tz=lead_tz,
                auto_id=auto_id,
            )
        problem = (
            ""
            if appointment.status == Appointment.Status.SCHEDULED
            else f"This appointment is {appointment.get_status_display().lower()}: it cannot be moved."
        )
        return _dialog(request, form=form, problem=problem, **dialog)
    form = AppointmentForm(request.POST, lead_tz=lead_tz, auto_id=auto_id)
    if form.is_valid():
        try:
            appointment = appointment_reschedule(
                appointment=appointment,
                starts_at=form.cleaned_data["starts_at"],
                duration=form.cleaned_data["duration"],
                location=form.cleaned_data["location"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            if request.htmx:
                done = "Appointment moved, a new invite is on its way"
                return _rows_response(request, old=row, rep=appointment.rep, done=done)
            messages.success(request, f"Appointment moved: {_both_clocks(appointment)}. A new invite is on its way.")
            return _back(request, reverse("leads:detail", args=[lead.pk]))
    return _dialog(request, form=form, status=400, **dialog)


def _action(request, pk, service, done: str):
    """Held / no-show: one click. An error shows inside the row's appointment block."""
    appointment = appointment_get_for(request.user, pk)
    row = appointment_touch_open(appointment)
    try:
        appointment = service(appointment=appointment, by=request.user)
    except ValidationError as exc:
        problem = " ".join(exc.messages)
        if request.htmx and row is not None:
            row_links_attach([row])
            response = render(
                request, "today/_appointment_actions.html", {"touch": row, "appointment_problem": problem}
            )
            response["HX-Retarget"] = f"#appointment-actions-{row.pk}"
            response["HX-Reswap"] = "outerHTML"
            return response
        if request.htmx:
            return HttpResponse(problem, status=400, content_type="text/plain; charset=utf-8")
        messages.error(request, problem)
        return _back(request, reverse("leads:detail", args=[appointment.lead_id]))
    if request.htmx:
        return _rows_response(request, old=row, rep=appointment.rep, done=done[0].upper() + done[1:])
    messages.success(request, f"{appointment.lead.full_name}: {done}.")
    return _back(request, reverse("leads:detail", args=[appointment.lead_id]))


@require_POST
@login_required
def appointment_no_show_view(request, pk):
    return _action(request, pk, appointment_no_show, "no-show logged, a short follow-up restarts")


@require_POST
@login_required
def appointment_held_view(request, pk):
    return _action(request, pk, appointment_held, "appointment held")
