"""The rep's day: open tasks with one-click outcomes, snooze/reassign, referral calls, and the team view."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import managers_and_admins
from cadences.services import touch_reassign, touch_snooze
from leads.forms import LeadIntakeForm
from leads.selectors import users_assignable_by
from reactions.outcomes import touch_complete
from today import selectors, services
from today.forms import OutcomeForm, ReassignForm, ReferralCallForm, SnoozeForm


def _limit(request) -> int:
    try:
        return int(request.GET.get("limit") or selectors.DEFAULT_LIMIT)
    except ValueError:
        return selectors.DEFAULT_LIMIT


def _may_reassign(user) -> bool:
    return user.is_manager or user.is_admin_role


def _page(request, rep, *, viewing_other: bool):
    now = timezone.now()
    today = selectors.tasks_for_today(rep=rep, now=now, limit=_limit(request))
    context = {
        "rep": rep,
        "today": today,
        "counters": selectors.task_counters(rep=rep, now=now),
        "viewing_other": viewing_other,
        "may_reassign": _may_reassign(request.user),
        "assignees": list(users_assignable_by(request.user).order_by("first_name", "username"))
        if _may_reassign(request.user)
        else [],
        "referrals": [] if viewing_other else selectors.referral_contacts_for(rep=rep, now=now),
        "intake_form": None if viewing_other else LeadIntakeForm(user=request.user),
        "next_limit": today.limit + selectors.DEFAULT_LIMIT,
    }
    return render(request, "today/today.html", context)


@require_GET
@login_required
def today(request):
    return _page(request, request.user, viewing_other=False)


@require_GET
@managers_and_admins
def team(request):
    reps = selectors.team_day_counts(user=request.user)
    return render(request, "today/team.html", {"reps": reps})


@require_GET
@managers_and_admins
def team_rep(request, user_id):
    rep = get_object_or_404(selectors.team_reps_for(request.user), pk=user_id)
    return _page(request, rep, viewing_other=rep.pk != request.user.pk)


def _back(request):
    target = request.POST.get("next") or request.headers.get("referer") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("today:index")


def _bad_request(request, message: str):
    # htmx shows the 400's text on the page (today.html); a plain form post also flashes it for the next one.
    if not request.htmx:
        messages.error(request, message)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _swap_response(request, *, touch, replacement=None):
    """htmx: the row becomes `replacement` (or disappears) and the counters refresh out of band."""
    rep = touch.assigned_to or request.user
    html = render_to_string(
        "today/_swap.html",
        {
            "old": touch,
            "touch": replacement,
            "counters": selectors.task_counters(rep=rep),
            "may_reassign": _may_reassign(request.user),
            "assignees": list(users_assignable_by(request.user).order_by("first_name", "username"))
            if _may_reassign(request.user)
            else [],
        },
        request=request,
    )
    return HttpResponse(html)


def _messages_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@require_POST
@login_required
def touch_outcome(request, pk):
    touch = selectors.touch_get_for(request.user, pk)
    form = OutcomeForm(request.POST, allowed=selectors.outcomes_for_channel(touch.channel))
    if not form.is_valid():
        return _bad_request(request, "Pick one of the outcomes shown for this task.")
    try:
        touch_complete(
            touch=touch, outcome=form.cleaned_data["outcome"], by=request.user, note=form.cleaned_data["note"]
        )
    except PermissionDenied:
        raise Http404("No such task.") from None
    except ValidationError as exc:
        return _bad_request(request, _messages_text(exc))
    if request.htmx:
        nxt = selectors.touch_next_for_lead(touch=touch, rep=touch.assigned_to)
        return _swap_response(request, touch=touch, replacement=nxt)
    messages.success(request, f"Logged for {touch.lead.full_name}.")
    return _back(request)


def _snooze_until(form: SnoozeForm, user) -> dt.datetime:
    now = timezone.now()
    choice = form.cleaned_data["until"]
    if choice == SnoozeForm.HOUR:
        return now + dt.timedelta(hours=1)
    if choice == SnoozeForm.TOMORROW:
        _, end = selectors.day_bounds(user, now)
        return end.replace(hour=user.work_start_hour or 9)
    return form.cleaned_data["at"]


@require_POST
@login_required
def touch_snooze_view(request, pk):
    touch = selectors.touch_get_for(request.user, pk)
    rep = touch.assigned_to or request.user
    form = SnoozeForm(request.POST)
    # A typed date and time is the rep's wall clock, not the server's.
    with timezone.override(selectors.day_bounds(rep)[0].tzinfo):
        valid = form.is_valid()
    if not valid:
        return _bad_request(request, "Choose when to snooze to.")
    try:
        touch_snooze(touch=touch, until=_snooze_until(form, rep), by=request.user)
    except PermissionDenied:
        raise Http404("No such task.") from None
    except ValidationError as exc:
        return _bad_request(request, _messages_text(exc))
    if request.htmx:
        _, end = selectors.day_bounds(rep)
        replacement = None
        if touch.due_at < end:
            replacement = selectors.touch_row(pk=touch.pk)
        return _swap_response(request, touch=touch, replacement=replacement)
    messages.success(request, f"Snoozed until {timezone.localtime(touch.due_at):%a %d %b %H:%M}.")
    return _back(request)


@require_POST
@managers_and_admins
def touch_reassign_view(request, pk):
    touch = selectors.touch_get_for(request.user, pk)
    form = ReassignForm(request.POST, user=request.user)
    if not form.is_valid():
        return _bad_request(request, "Choose someone you can assign tasks to.")
    previous = touch.assigned_to
    try:
        touch_reassign(touch=touch, to=form.cleaned_data["to"], by=request.user)
    except ValidationError as exc:
        return _bad_request(request, _messages_text(exc))
    if request.htmx:
        touch.assigned_to = previous
        return _swap_response(request, touch=touch, replacement=None)
    messages.success(request, f"Task reassigned to {form.cleaned_data['to']}.")
    return _back(request)


@require_POST
@login_required
def referral_log(request, contact_id):
    contact = selectors.referral_contact_get_for(request.user, contact_id)
    form = ReferralCallForm(request.POST)
    if not form.is_valid():
        return _bad_request(request, "Choose how the call went.")
    data = form.cleaned_data
    try:
        lead = services.referral_call_log(
            contact=contact,
            by=request.user,
            got_referral=data["result"] == "referral",
            first_name=data["first_name"],
            last_name=data["last_name"],
            phone=data["phone"],
            email=data["email"],
            note=data["note"],
        )
    except ValidationError as exc:
        messages.error(request, _messages_text(exc))
        return redirect("today:index")
    if lead is not None:
        messages.success(request, f"Thanks logged: {contact} referred {lead.full_name}.")
    else:
        messages.success(request, f"Referral call to {contact} logged.")
    return redirect("today:index")
