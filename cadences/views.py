"""The cadence editor (admins only).

Step actions answer htmx requests with the `_workspace.html` partial (timeline, steps, step
editor) so the page never reloads; without htmx they redirect back to the cadence page, and
a form with errors re-renders the whole page.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.decorators import admins_only
from cadences import editing, selectors
from cadences.forms import CadenceForm, CadenceStepForm
from cadences.models import AUTOMATABLE_CHANNELS
from cadences.rendering import MERGE_FIELDS, render_text, template_errors, unknown_merge_fields
from leads.models import Lead


@admins_only
def cadence_list(request):
    cadences = list(selectors.cadences_for_list())
    for cadence in cadences:
        cadence.rules = selectors.source_rules_summary(cadence)
    return render(request, "cadences/list.html", {"cadences": cadences})


def _cadence_form_values(form: CadenceForm) -> dict:
    return {name: form.cleaned_data[name] for name in CadenceForm.Meta.fields}


@admins_only
def cadence_create(request):
    form = CadenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cadence = editing.cadence_create(**_cadence_form_values(form))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Cadence “{cadence.name}” created. Add its steps below.")
            return redirect("cadences:detail", pk=cadence.pk)
    return render(request, "cadences/cadence_form.html", {"form": form, "cadence": None})


@admins_only
def cadence_edit(request, pk):
    cadence = selectors.cadence_get(pk=pk)
    form = CadenceForm(request.POST or None, instance=cadence)
    if request.method == "POST" and form.is_valid():
        try:
            editing.cadence_update(cadence=cadence, **_cadence_form_values(form))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Cadence saved.")
            return redirect("cadences:detail", pk=cadence.pk)
    return render(request, "cadences/cadence_form.html", {"form": form, "cadence": cadence})


@admins_only
@require_POST
def cadence_toggle_active(request, pk):
    cadence = selectors.cadence_get(pk=pk)
    editing.cadence_set_active(cadence=cadence, active=not cadence.active)
    if cadence.active:
        messages.success(request, f"“{cadence.name}” is active: it picks new leads again.")
    else:
        note = " New leads it would have picked now get no cadence." if cadence.is_default else ""
        messages.warning(
            request,
            f"“{cadence.name}” is inactive: it picks no new leads; "
            f"{cadence.running_enrollment_count} running enrollment(s) carry on.{note}",
        )
    return redirect("cadences:detail", pk=cadence.pk)


# --- The cadence page and its steps ---------------------------------------------------------


def _step_form(cadence, *, data=None, step=None) -> CadenceStepForm:
    return CadenceStepForm(data, instance=step, preview_url=reverse("cadences:preview", args=[cadence.pk]))


def _render_cadence_page(request, cadence, *, form=None, editing_step=None, status=200):
    """The cadence page, or only its workspace for htmx requests."""
    if form is None:
        form = _step_form(cadence)
    steps = selectors.cadence_steps_active(cadence=cadence)
    sample = _sample_lead()
    for i, step in enumerate(steps):
        # Up/down only reorder within a day: the ends of a day cannot move further.
        step.can_move_up = i > 0 and steps[i - 1].day == step.day
        step.can_move_down = i + 1 < len(steps) and steps[i + 1].day == step.day
        _step_preview(step, lead=sample, rep=request.user)
    if editing_step is not None:
        # The listed copy carries touch_count ("in use" note in the editor).
        editing_step = next((s for s in steps if s.pk == editing_step.pk), editing_step)
        form_action = reverse("cadences:step_edit", args=[cadence.pk, editing_step.pk])
    else:
        form_action = reverse("cadences:step_add", args=[cadence.pk])
    context = {
        "cadence": cadence,
        "rules": selectors.source_rules_summary(cadence),
        "steps": steps,
        "timeline": selectors.cadence_timeline(steps=steps),
        "span_days": max((s.day for s in steps), default=None),
        "form": form,
        "form_action": form_action,
        "editing_step": editing_step,
        "merge_fields": list(MERGE_FIELDS),
        "preview": _preview_context(request, form.data if form.is_bound else _initial_values(form)),
    }
    template = "cadences/_workspace.html" if request.htmx else "cadences/detail.html"
    return render(request, template, context, status=status)


def _initial_values(form: CadenceStepForm) -> dict:
    return {name: form[name].value() for name in ("channel", "automated", "subject", "body", "talking_points")}


def _after_step_change(request, cadence):
    if request.htmx:
        return _render_cadence_page(request, cadence)
    return redirect("cadences:detail", pk=cadence.pk)


@admins_only
def cadence_detail(request, pk):
    cadence = selectors.cadence_get(pk=pk)
    return _render_cadence_page(request, cadence)


def _save_step(request, cadence, step=None):
    form = _step_form(cadence, data=request.POST, step=step)
    if form.is_valid():
        try:
            if step is None:
                saved, warnings = editing.cadence_step_create(cadence=cadence, **form.step_values())
                done = f"Day {saved.day} {saved.get_channel_display()} step added."
            else:
                saved, warnings = editing.cadence_step_update(step=step, **form.step_values())
                done = f"Day {saved.day} {saved.get_channel_display()} step saved."
                if saved.pk != step.pk:
                    done += " Leads already in this cadence keep the previous version."
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, done)
            for warning in warnings:
                messages.warning(request, warning)
            return _after_step_change(request, cadence)
    # Errors: show them where the admin typed (the htmx swap needs a 200).
    return _render_cadence_page(request, cadence, form=form, editing_step=step)


@admins_only
@require_POST
def cadence_step_add(request, pk):
    cadence = selectors.cadence_get(pk=pk)
    return _save_step(request, cadence)


@admins_only
def cadence_step_edit(request, pk, step_pk):
    cadence = selectors.cadence_get(pk=pk)
    step = selectors.cadence_step_get(cadence=cadence, pk=step_pk)
    if request.method == "POST":
        return _save_step(request, cadence, step)
    return _render_cadence_page(request, cadence, form=_step_form(cadence, step=step), editing_step=step)


@admins_only
@require_POST
def cadence_step_remove(request, pk, step_pk):
    cadence = selectors.cadence_get(pk=pk)
    step = selectors.cadence_step_get(cadence=cadence, pk=step_pk)
    try:
        in_use = editing.cadence_step_remove(step=step)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        label = f"Day {step.day} {step.get_channel_display()} step"
        if in_use:
            messages.success(request, f"{label} removed. Leads already in this cadence still get it.")
        else:
            messages.success(request, f"{label} removed.")
    return _after_step_change(request, cadence)


@admins_only
@require_POST
def cadence_step_move(request, pk, step_pk, direction):
    cadence = selectors.cadence_get(pk=pk)
    step = selectors.cadence_step_get(cadence=cadence, pk=step_pk)
    try:
        editing.cadence_step_move(step=step, direction=direction)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _after_step_change(request, cadence)


# --- Live preview ---------------------------------------------------------------------------


def _sample_lead() -> Lead:
    """Never saved: what a template looks like for a typical web lead."""
    return Lead(
        first_name="Jordan",
        last_name="Rivera",
        company="Acme Dental",
        interest="online booking for our three clinics",
        how_heard="a Google search",
        timezone="America/Chicago",
    )


def _step_preview(step, *, lead, rep) -> None:
    """The step list shows what a lead reads (or what the rep is told), never raw merge tags: the
    subject, and the body of what is sent or the talking points of a task, rendered for `lead`."""
    sent = step.automated and step.channel in AUTOMATABLE_CHANNELS
    step.preview_subject = render_text(step.subject, lead=lead, rep=rep)
    text = step.body if sent or not step.talking_points else step.talking_points
    step.preview_text = " ".join(render_text(text, lead=lead, rep=rep).split())


def _preview_context(request, data) -> dict:
    lead = _sample_lead()
    automated = str(data.get("automated", "")).lower() in ("on", "true", "1")
    channel = data.get("channel") or ""
    parts = []
    for name, label in (("subject", "Subject"), ("body", "Body"), ("talking_points", "Talking points")):
        text = data.get(name) or ""
        errors = template_errors(text)
        unknown = unknown_merge_fields(text)
        parts.append(
            {
                "name": name,
                "label": label,
                "text": text,
                "rendered": render_text(text, lead=lead, rep=request.user),
                "syntax_errors": [e for e in errors if not e.startswith("Unknown merge field")],
                "unknown": unknown,
                # Unknown fields block saving an automated step's subject/body; elsewhere they warn.
                "blocking": bool(unknown) and automated and name != "talking_points",
            }
        )
    body = parts[1]["rendered"]
    return {
        "parts": parts,
        "lead": lead,
        "channel": channel,
        "automated": automated and channel in AUTOMATABLE_CHANNELS,
        "sms_length": len(body) if channel == "sms" else None,
        "has_text": any(p["text"] for p in parts),
    }


@admins_only
@require_POST
def cadence_preview(request, pk):
    cadence = selectors.cadence_get(pk=pk)
    context = {"cadence": cadence, "preview": _preview_context(request, request.POST)}
    return render(request, "cadences/_preview.html", context)
