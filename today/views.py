"""The rep's day: one row per lead with one-click outcomes, decisions, snooze/reassign, referral calls, the team view.

After any action on a row (htmx) the answer is, in this order:
1. the lead's cadence ended (a reply, closed, nurtured): a short confirmation in the row's place,
   and every other row of the lead leaves (the `today:lead-ended` event, static/js/today.js);
2. "Not interested": the row asks what now: close as lost, long-term nurture or keep going;
3. the lead's next task is due today: it replaces the row;
4. otherwise a confirmation naming what comes next ("Logged: No answer — next: Email on Thu 4 Dec
   10:00") that fades after a few seconds.
An action that can no longer apply answers 409 (400 for bad input) with the row again, its
message inside (or a notice in its place once the task is gone); static/js/today.js swaps those in.
A plain form post flashes the same message and goes back to the page.
"""

import datetime as dt
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import managers_and_admins
from cadences.models import Outcome, Touch
from cadences.services import touch_reassign, touch_snooze
from leads.models import LeadStatus
from leads.selectors import lead_get_for, users_assignable_by
from reactions.decisions import lead_close_lost, lead_nurture
from reactions.outcomes import touch_complete
from reports.selectors.vocabulary import definitions
from today import selectors, services, team_selectors, timing
from today.forms import DecisionForm, OutcomeForm, ReassignForm, ReferralCallForm, SnoozeForm, TeamReassignForm
from today.row_links import row_links_attach

# Outcomes after which the lead's cadence is over: its rows leave Today at once.
ENDING_OUTCOMES = (Outcome.REPLIED, Outcome.APPOINTMENT)
ROW_ERROR_HEADER = "X-Today-Row"
# Team today's bulk reassign: a rejected request's answer (static/js/team.js swaps it in) and its status.
TEAM_ERROR_HEADER = "X-Team-Reassign"
TEAM_ERROR_STATUS = {services.OUT_OF_SCOPE: 404, services.NOT_OPEN: 409}
# The reports' terms Team today counts with, for its "How this is counted".
TEAM_TERMS = ("Attempt", "Followed up", "Left behind")


def _limit(request) -> int:
    try:
        return int(request.GET.get("limit") or selectors.DEFAULT_LIMIT)
    except ValueError:
        return selectors.DEFAULT_LIMIT


def _may_reassign(user) -> bool:
    return user.is_manager or user.is_admin_role


def _assignees(user) -> list:
    return list(users_assignable_by(user).order_by("first_name", "username")) if _may_reassign(user) else []


def _page(request, rep, *, viewing_other: bool):
    now = timezone.now()
    today = selectors.tasks_for_today(rep=rep, now=now, limit=_limit(request))
    referrals = [] if viewing_other else selectors.referral_contacts_for(rep=rep, now=now)
    context = {
        "rep": rep,
        "today": today,
        "counters": today.counters,
        "viewing_other": viewing_other,
        "referrals": referrals,
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
    return render(request, "today/team.html", _team_context(request))


def _posted_ids(request, name: str) -> set[int]:
    """The ids a rejected post had checked, to check them again (whatever else it held is dropped)."""
    return {int(v) for v in request.POST.getlist(name) if v.isdigit() and len(v) < 19}


def _team_context(request, *, notice: str = "", error: str = "") -> dict:
    """Team today (today.team_selectors.team_day); after a rejected reassign, the selection and the
    person chosen come back checked, each rep with a checked row opened."""
    day = team_selectors.team_day(user=request.user)
    touches, leads = (_posted_ids(request, "touches"), _posted_ids(request, "leads")) if error else (set(), set())
    for rep in day.reps:
        rep.selection_open = any(t.pk in touches for t in rep.overdue_tasks) or any(
            lead.pk in leads for lead in rep.new_leads
        )
    chosen = request.POST.get("to", "") if error else ""
    return {
        "day": day,
        "reps": day.reps,
        "assignees": _assignees(request.user),
        "selected_touches": touches,
        "selected_leads": leads,
        "chosen_to": int(chosen) if chosen.isdigit() and len(chosen) < 19 else None,
        "notice": notice,
        "error": error,
        "definitions": [(term, text) for term, text in definitions() if term in TEAM_TERMS],
        "grace": settings.TASK_OVERDUE_GRACE_MINUTES,
        "instant": settings.INSTANT_CALL_TARGET_MINUTES,
        "names_shown": team_selectors.NAMES_SHOWN,
        "list_limit": team_selectors.LIST_LIMIT,
    }


def _team_answer(request, *, notice: str = "", error: str = "", status: int = 200):
    """htmx: the team part again (figures, lists, the result); otherwise the whole page."""
    context = _team_context(request, notice=notice, error=error)
    if not request.htmx:
        return render(request, "today/team.html", context, status=status)
    response = HttpResponse(render_to_string("today/_team_body.html", context, request=request), status=status)
    if error:
        response[TEAM_ERROR_HEADER] = "error"
    return response


@require_POST
@managers_and_admins
def team_reassign(request):
    """ "Reassign selected to …": every checked task and lead to one person, or nothing and a clear
    error (ids outside the viewer's teams 404, a task done meanwhile 409, bad input 400)."""
    form = TeamReassignForm(request.POST)
    if not form.is_valid():
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        return _team_answer(request, error=" ".join(errors), status=400)
    data = form.cleaned_data
    try:
        done = services.team_reassign(by=request.user, to=data["to"], touch_ids=data["touches"], lead_ids=data["leads"])
    except ValidationError as exc:
        status = TEAM_ERROR_STATUS.get(getattr(exc, "code", None), 400)
        return _team_answer(request, error=_messages_text(exc), status=status)
    if not request.htmx:
        messages.success(request, f"{done}.")
        return redirect("today:team")
    return _team_answer(request, notice=f"{done}.")


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


def _messages_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _rep_of(touch, request):
    return touch.assigned_to or touch.lead.owner or request.user


def _swap(request, *, old, rep, touch=None, notice: str = "", decision: dict | None = None, lead_ended=None):
    """htmx: the row `old` becomes `touch` (the lead's next row), a notice or a decision; the
    counters refresh out of band. `lead_ended`: the lead whose other rows leave the page too."""
    html = render_to_string(
        "today/_swap.html",
        {
            "old": old,
            "touch": touch,
            "notice": notice,
            "notice_fades": True,
            "decision": decision,
            "counters": selectors.task_counters(rep=rep),
        },
        request=request,
    )
    response = HttpResponse(html)
    if lead_ended is not None:
        # After the swap, so the confirmation is in place before the lead's other rows go.
        response["HX-Trigger-After-Swap"] = json.dumps({"today:lead-ended": {"lead": lead_ended}})
    return response


def _after(request, *, old, rep, logged: str):
    """htmx, the cadence going on: the lead's next row when it is due today, else a confirmation."""
    row = selectors.touch_next_for_lead(touch=old, rep=rep)
    if row is not None:
        return _swap(request, old=old, rep=rep, touch=row)
    nxt = selectors.lead_next_touch(lead_id=old.lead_id)
    if nxt is not None:
        notice = f"{logged} — next: {selectors.next_label(nxt, rep=rep)}"
    else:
        notice = f"{logged} — nothing else is planned"
    return _swap(request, old=old, rep=rep, notice=notice)


def _row_problem(request, *, touch, message: str, status: int, decision: dict | None = None):
    """An action that cannot apply. htmx: the row again with `message` inside it (or a notice where
    it was, once the task is gone), answered `status` with the header static/js/today.js swaps on.
    A plain post: the message flashes on the page it came from."""
    if not request.htmx:
        messages.error(request, message)
        return _back(request)
    context = {
        "old": touch,
        "row_error": message,
    }
    if decision is not None:
        context["decision"] = {**decision, "error": message}
    else:
        row = selectors.touch_row(pk=touch.pk) if _still_open(touch) else None
        context.update(touch=row, notice="" if row else message, notice_fades=False, notice_problem=True)
    response = HttpResponse(render_to_string("today/_swap.html", context, request=request), status=status)
    response[ROW_ERROR_HEADER] = "error"
    return response


def _still_open(touch) -> bool:
    return Touch.objects.open_tasks().filter(pk=touch.pk).exists()


def _decision(touch, request, *, lead=None) -> dict:
    """What the "Not interested" question shows: the lead, its attempts and who may close it now."""
    lead = lead or touch.lead
    minimum = settings.MIN_ATTEMPTS_BEFORE_CLOSE
    return {
        "touch": touch,
        "lead": lead,
        "attempts": lead.attempt_count,
        "minimum": minimum,
        "may_close": lead.attempt_count >= minimum,
        "manager": _may_reassign(request.user),
    }


@require_POST
@login_required
def touch_outcome(request, pk):
    touch = selectors.touch_get_for(request.user, pk)
    rep = _rep_of(touch, request)
    form = OutcomeForm(request.POST, allowed=selectors.outcomes_for_channel(touch.channel))
    if not form.is_valid():
        return _row_problem(request, touch=touch, message="Pick one of the outcomes shown for this task.", status=400)
    outcome = form.cleaned_data["outcome"]
    try:
        touch_complete(touch=touch, outcome=outcome, by=request.user, note=form.cleaned_data["note"])
    except PermissionDenied:
        raise Http404("No such task.") from None
    except ValidationError as exc:
        status = 400 if _still_open(touch) else 409
        return _row_problem(request, touch=touch, message=_messages_text(exc), status=status)
    lead = touch.lead
    lead.refresh_from_db()
    logged = f"Logged: {Outcome(outcome).label}"
    if not request.htmx:
        messages.success(request, f"{logged} for {lead.full_name}.")
        return _back(request)
    if outcome in ENDING_OUTCOMES or not lead.is_open:
        return _swap(
            request,
            old=touch,
            rep=rep,
            notice=f"{logged} — the cadence has ended",
            lead_ended=lead.pk,
        )
    if outcome == Outcome.NOT_INTERESTED:
        return _swap(request, old=touch, rep=rep, decision=_decision(touch, request, lead=lead))
    return _after(request, old=touch, rep=rep, logged=logged)


@require_POST
@login_required
def lead_decision(request, lead_id):
    """After "Not interested": close as lost, move to long-term nurture, or keep going."""
    lead = lead_get_for(request.user, lead_id)
    touch = _decision_touch(request, lead)
    rep = _rep_of(touch, request) if touch else (lead.owner or request.user)
    form = DecisionForm(request.POST)
    decision = _decision(touch, request, lead=lead) if touch else None
    if decision is not None:
        decision["reason"] = request.POST.get("reason", "")[:300]  # typed again after an error, never lost
    if not form.is_valid():
        return _decision_problem(request, touch, decision, "Choose close, nurture or keep going.")
    choice, reason = form.cleaned_data["decision"], form.cleaned_data["reason"]
    try:
        if choice == DecisionForm.CLOSE:
            lead_close_lost(lead=lead, by=request.user, reason=reason)
            done = "Closed as lost — the cadence has ended"
        elif choice == DecisionForm.NURTURE:
            enrollment = lead_nurture(lead=lead, by=request.user)
            done = f"Moved to long-term nurture ({enrollment.cadence.name})"
        else:
            done = "Keep going"
    except (ValidationError, PermissionDenied) as exc:
        message = _messages_text(exc) if isinstance(exc, ValidationError) else str(exc)
        return _decision_problem(request, touch, decision, message)
    if not request.htmx or touch is None:
        messages.success(request, f"{lead.full_name}: {done}.")
        return _back(request)
    if choice == DecisionForm.KEEP:
        return _after(request, old=touch, rep=rep, logged=done)
    if choice == DecisionForm.NURTURE and lead.status == LeadStatus.NURTURING:
        nxt = selectors.lead_next_touch(lead_id=lead.pk)
        if nxt is not None:
            done += f" — next: {selectors.next_label(nxt, rep=rep)}"
    return _swap(request, old=touch, rep=rep, notice=done, lead_ended=lead.pk)


def _decision_touch(request, lead):
    """The task whose "Not interested" is being decided (the row's id), if it is this lead's and the user's to see."""
    pk = request.POST.get("touch")
    if not pk:
        return None
    try:
        touch = selectors.touch_get_for(request.user, pk)
    except Http404:
        return None
    return touch if touch.lead_id == lead.pk else None


def _decision_problem(request, touch, decision, message):
    if touch is None or not request.htmx:
        messages.error(request, message)
        return _back(request)
    return _row_problem(request, touch=touch, message=message, status=400, decision=decision)


def _snooze_until(form: SnoozeForm, user) -> dt.datetime:
    now = timezone.now()
    choice = form.cleaned_data["until"]
    if choice == SnoozeForm.HOUR:
        return now + dt.timedelta(hours=1)
    if choice == SnoozeForm.TOMORROW:
        _, end = selectors.day_bounds(user, now)
        return end.replace(hour=user.work_start_hour or 9)
    return form.cleaned_data["at"]


@require_GET
@login_required
def row_more(request, pk):
    """A row's "More", fetched when it first opens: note, snooze and reschedule, reassign (managers
    and admins), writing to the lead. Only for a task one may work (404 otherwise)."""
    touch = selectors.touch_get_for(request.user, pk)
    row_links_attach([touch])
    context = {"touch": touch, "may_reassign": _may_reassign(request.user), "assignees": _assignees(request.user)}
    return render(request, "today/_row_more.html", context)


@require_POST
@login_required
def touch_snooze_view(request, pk):
    touch = selectors.touch_get_for(request.user, pk)
    rep = _rep_of(touch, request)
    form = SnoozeForm(request.POST)
    # A typed date and time is the rep's wall clock, not the server's.
    with timezone.override(timing.zone_for(rep)):
        valid = form.is_valid()
    if not valid:
        return _row_problem(request, touch=touch, message="Choose when to snooze to: a date and a time.", status=400)
    try:
        touch_snooze(touch=touch, until=_snooze_until(form, rep), by=request.user)
    except PermissionDenied:
        raise Http404("No such task.") from None
    except ValidationError as exc:
        status = 400 if _still_open(touch) else 409
        return _row_problem(request, touch=touch, message=_messages_text(exc), status=status)
    when = timing.when_label(touch.due_at, tz=timing.zone_for(rep), now=timezone.now(), on=True)
    if not request.htmx:
        messages.success(request, f"Snoozed {when}.")
        return _back(request)
    return _after(request, old=touch, rep=rep, logged=f"Snoozed {when}")


@require_POST
@managers_and_admins
def touch_reassign_view(request, pk):
    touch = selectors.touch_get_for(request.user, pk)
    rep = _rep_of(touch, request)
    form = ReassignForm(request.POST, user=request.user)
    if not form.is_valid():
        return _row_problem(request, touch=touch, message="Choose someone you can assign tasks to.", status=400)
    try:
        touch_reassign(touch=touch, to=form.cleaned_data["to"], by=request.user)
    except ValidationError as exc:
        return _row_problem(request, touch=touch, message=_messages_text(exc), status=400)
    text = f"Task reassigned to {form.cleaned_data['to']}"
    if request.htmx:
        return _swap(request, old=touch, rep=rep, notice=text)
    messages.success(request, f"{text}.")
    return _back(request)


@require_POST
@login_required
def referral_log(request, contact_id):
    contact = selectors.referral_contact_get_for(request.user, contact_id)
    form = ReferralCallForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose how the call went.")
        return redirect("today:index")
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
