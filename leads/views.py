"""Lead pages: list, phone intake, lead page with its timeline, and the actions on a lead.

Every lead is fetched through leads.selectors (scoped to the viewer: others' leads are 404);
every write goes through one leads.services function.
"""

import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.decorators import managers_and_admins, role_required
from accounts.models import Role
from cadences.scheduling import next_contact_span
from cadences.selectors import touches_upcoming_for_lead
from cadences.services import schedule_rules_for
from leads.forms import (
    SERVICE_FIELD_MAP,
    AssignForm,
    LeadEditForm,
    LeadFilterForm,
    LeadIntakeForm,
    MergeConfirmForm,
    NoteForm,
    StatusForm,
    add_service_errors,
    is_manager_or_admin,
)
from leads.phones import timezone_prefix_for_phone
from leads.selectors import (
    lead_get_for,
    lead_timeline,
    leads_merge_candidates,
    leads_search,
    leads_visible_to,
)
from leads.services import lifecycle as lead_lifecycle
from reactions import intake, lifecycle, merge

any_role = role_required(Role.REP, Role.MANAGER, Role.ADMIN)

LEADS_PER_PAGE = 25
TIMELINE_LIMIT = 100
DUPLICATE_MESSAGE = "This lead already exists — the inquiry was added to its timeline"
MERGE_SEARCH_NUL = "The search contains a null character: type the name, phone, email or #id again."


@any_role
@vary_on_headers("HX-Request")
def lead_list(request):
    form = LeadFilterForm(request.GET or None, user=request.user)
    leads = leads_search(user=request.user, **form.filters())
    page = Paginator(leads, LEADS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "leads": page.object_list}
    template = "leads/_table.html" if request.htmx else "leads/list.html"
    return render(request, template, context)


@any_role
def lead_intake(request):
    form = LeadIntakeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            result = intake.lead_intake(**form.intake_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc, SERVICE_FIELD_MAP)
        else:
            lead = result.lead
            visible = leads_visible_to(request.user).filter(pk=lead.pk).exists()
            if result.created:
                owner = f" and assigned to {lead.owner}" if lead.owner else ""
                messages.success(request, f"Lead {lead.full_name} saved{owner}.")
            else:
                owner = f"; {lead.owner} was notified" if lead.owner else ""
                messages.info(request, f"{DUPLICATE_MESSAGE}{owner}.")
            # A lead that went to someone else (round-robin, a duplicate of theirs) is not ours to open.
            return redirect("leads:detail", pk=lead.pk) if visible else redirect("leads:intake")
    if request.htmx and request.method == "GET":
        return render(request, "leads/_intake_form.html", {"form": form})  # Today's quick-add
    return render(request, "leads/intake.html", {"form": form})


def _timeline_context(request, lead, *, note_form=None):
    show_all = request.GET.get("all") == "1"
    events = lead_timeline(lead=lead, limit=None if show_all else TIMELINE_LIMIT)
    has_more = not show_all and len(events) > TIMELINE_LIMIT
    return {
        "lead": lead,
        "events": events[:TIMELINE_LIMIT] if has_more else events,
        "timeline_has_more": has_more,
        "note_form": note_form or NoteForm(),
    }


def _lead_local_time(lead) -> str:
    """The lead's wall-clock time now, formatted here: templates would convert it back to the viewer's zone.

    While the zone is uncertain, the earliest and the latest it may be.
    """
    now = timezone.now()
    try:
        times = sorted(now.astimezone(zoneinfo.ZoneInfo(z)).replace(tzinfo=None) for z in lead.contact_timezones)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return ""
    if len(times) > 1 and times[0] != times[-1]:
        return f"between {times[0]:%a %H:%M} and {times[-1]:%a %H:%M}"
    return f"{times[0]:%a %H:%M}"


def _timezone_note(lead, viewer) -> dict | None:
    """What the lead page says while the lead's zone is a guess (None once it is known)."""
    if not lead.timezone_uncertain:
        return None
    rules = schedule_rules_for(lead=lead)
    span = next_contact_span(timezone.now(), rules)
    viewer_tz = zoneinfo.ZoneInfo(viewer.timezone or settings.TIME_ZONE)
    note = {
        "prefix": timezone_prefix_for_phone(lead.phone),
        "zones": lead.contact_timezones,
        "window": f"{rules.contact_start_hour:02d}:00–{rules.contact_end_hour:02d}:00",
        "next_opens": "",
        "next_closes": "",
    }
    if span:
        opens, closes = (moment.astimezone(viewer_tz) for moment in span)
        note["next_opens"] = opens.strftime("%a %H:%M")
        note["next_closes"] = closes.strftime("%H:%M" if closes.date() == opens.date() else "%a %H:%M")
    return note


def _render_detail(request, lead, *, note_form=None, status_form=None):
    user = request.user
    manager = is_manager_or_admin(user)
    minimum = settings.MIN_ATTEMPTS_BEFORE_CLOSE
    context = {
        **_timeline_context(request, lead, note_form=note_form),
        "touches": touches_upcoming_for_lead(lead=lead),
        "local_time": _lead_local_time(lead),
        "timezone_note": _timezone_note(lead, user),
        "min_attempts": minimum,
        "attempts_percent": min(100, int(100 * lead.attempt_count / minimum)) if minimum else 100,
        "status_form": status_form or StatusForm(user=user, initial={"status": lead.status}),
        "can_manage": manager,
    }
    return render(request, "leads/detail.html", context)


@any_role
def lead_detail(request, pk):
    return _render_detail(request, lead_get_for(request.user, pk))


@any_role
@require_POST
def lead_note_add(request, pk):
    lead = lead_get_for(request.user, pk)
    form = NoteForm(request.POST)
    saved = False
    if form.is_valid():
        try:
            lead_lifecycle.lead_note_add(lead=lead, by=request.user, text=form.cleaned_data["text"])
            saved = True
        except ValidationError as exc:
            add_service_errors(form, exc)
    if request.htmx:
        return render(
            request, "leads/_timeline.html", _timeline_context(request, lead, note_form=None if saved else form)
        )
    if not saved:
        return _render_detail(request, lead, note_form=form)
    messages.success(request, "Note added.")
    return redirect("leads:detail", pk=lead.pk)


@any_role
def lead_edit(request, pk):
    lead = lead_get_for(request.user, pk)
    form = LeadEditForm(request.POST or None, lead=lead)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.lead_details_update(lead=lead, by=request.user, **form.update_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc, SERVICE_FIELD_MAP)
        else:
            messages.success(request, "Details saved.")
            return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/edit.html", {"lead": lead, "form": form})


@any_role
@require_POST
def lead_status(request, pk):
    lead = lead_get_for(request.user, pk)
    form = StatusForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            lifecycle.lead_status_change(lead=lead, by=request.user, **form.change_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Status is now {lead.get_status_display()}.")
            return redirect("leads:detail", pk=lead.pk)
    return _render_detail(request, lead, status_form=form)


@managers_and_admins
def lead_assign(request, pk):
    lead = lead_get_for(request.user, pk)
    form = AssignForm(request.POST or None, user=request.user, initial={"owner": lead.owner_id})
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.lead_assign(lead=lead, owner=form.cleaned_data["owner"], by=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{lead.full_name} is now {lead.owner}'s lead.")
            return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/assign.html", {"lead": lead, "form": form})


@managers_and_admins
def lead_merge(request, pk):
    """Fold another lead (the duplicate) into this one: search, confirm, merge."""
    lead = lead_get_for(request.user, pk)
    if request.method == "POST":
        form = MergeConfirmForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest("Choose the duplicate lead.")
        duplicate = lead_get_for(request.user, form.cleaned_data["duplicate"])
        name = duplicate.full_name
        try:
            merge.lead_merge(primary=lead, duplicate=duplicate, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("leads:merge", pk=lead.pk)
        messages.success(request, f"Merged {name} into this lead.")
        return redirect("leads:detail", pk=lead.pk)

    duplicate_id = request.GET.get("duplicate")
    if duplicate_id:
        duplicate = lead_get_for(request.user, duplicate_id)
        if duplicate.pk == lead.pk:
            messages.error(request, "Choose a different lead to merge into this one.")
            return redirect("leads:merge", pk=lead.pk)
        form = MergeConfirmForm(initial={"duplicate": duplicate.pk})
        return render(request, "leads/merge_confirm.html", {"lead": lead, "duplicate": duplicate, "form": form})

    q = request.GET.get("q", "").strip()
    if "\x00" in q:
        # No lead holds a NUL (PostgreSQL text can't): the search is refused, not sent to the database.
        context = {"lead": lead, "q": q.replace("\x00", ""), "candidates": [], "error": MERGE_SEARCH_NUL}
        return render(request, "leads/merge.html", context, status=400)
    candidates = leads_merge_candidates(user=request.user, lead=lead, q=q)
    return render(request, "leads/merge.html", {"lead": lead, "q": q, "candidates": candidates})
