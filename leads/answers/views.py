"""A rep writes to a lead (reactions.rep_messages) and reads the conversation (messaging.selectors).

Every lead is fetched through leads.selectors.lead_get_for (others' leads are 404); a step being
answered through today.selectors.touch_get_for (others' tasks are 404).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.decorators import role_required
from accounts.models import Role
from cadences.models import Touch, TouchStatus
from cadences.rendering import render_text
from cadences.snippets import starting_point_rendered, starting_points_for
from leads.answers.forms import ComposeForm
from leads.forms import add_service_errors
from leads.selectors import lead_get_for
from messaging.conversation_seen import conversation_seen
from messaging.selectors import conversation_for, conversation_latest_id
from reactions.rep_messages import SMS_BODY_MAX, lead_answer_problem, rep_message_send, rep_message_sent_before
from today.selectors import touch_get_for

any_role = role_required(Role.REP, Role.MANAGER, Role.ADMIN)
CHANNELS = {"email": "Email", "sms": "Text"}


def _task(request, lead, channel) -> Touch | None:
    """The open manual step this message completes (?task=), if any; 404 when it is not the viewer's."""
    pk = request.POST.get("task") or request.GET.get("task")
    if not pk:
        return None
    task = touch_get_for(request.user, pk)
    if task.lead_id != lead.pk or task.channel != channel or task.status != TouchStatus.SCHEDULED:
        raise Http404("No such open step for this lead.")
    return task


def _initial(request, *, lead, task, points, form_errors: list[str]) -> dict:
    """Prefilled from the step being answered, or from the template picked (?template=)."""
    key = request.GET.get("template")
    if key:
        try:
            subject, body = starting_point_rendered(points=points, key=key, lead=lead, rep=request.user)
        except ValidationError as exc:
            form_errors.extend(exc.messages)
            return {}
        return {"subject": subject, "body": body}
    if task is not None and task.step_id:
        return {
            "subject": render_text(task.step.subject, lead=lead, rep=request.user),
            "body": render_text(task.step.body, lead=lead, rep=request.user),
        }
    return {}


def _sent(request, *, lead, channel: str, task_done: bool):
    done = " and the step is done" if task_done else ""
    messages.success(request, f"{CHANNELS[channel]} to {lead.first_name} on its way{done}.")
    if request.POST.get("back") == "today":  # opened from a Today row: back to the list
        return redirect("today:index")
    return redirect(reverse("leads:detail", kwargs={"pk": lead.pk}) + "#conversation")


@any_role
def lead_compose(request, pk, channel):
    lead = lead_get_for(request.user, pk)
    if channel not in CHANNELS:
        raise Http404("Email or text only.")
    form = ComposeForm(request.POST, channel=channel) if request.method == "POST" else None
    if form is not None and form.is_valid():
        earlier = rep_message_sent_before(key=form.cleaned_data["send_key"], lead=lead, by=request.user)
        if earlier is not None:  # this form was sent already (a double click): say so again, send nothing
            return _sent(request, lead=lead, channel=channel, task_done=False)
    task = _task(request, lead, channel)
    points = starting_points_for(lead=lead, channel=channel)
    template_errors: list[str] = []
    if form is not None:
        if form.is_valid():
            try:
                rep_message_send(lead=lead, by=request.user, channel=channel, task=task, **form.send_kwargs())
            except ValidationError as exc:
                add_service_errors(form, exc)  # what was typed stays in the form
            else:
                return _sent(request, lead=lead, channel=channel, task_done=task is not None)
    else:
        initial = _initial(request, lead=lead, task=task, points=points, form_errors=template_errors)
        form = ComposeForm(initial=initial, channel=channel)
    context = {
        "lead": lead,
        "channel": channel,
        "channel_label": CHANNELS[channel],
        "form": form,
        "task": task,
        "points": points,
        "picked": request.GET.get("template", ""),
        "template_errors": template_errors,
        "problem": lead_answer_problem(lead=lead, channel=channel),
        "sms_max": SMS_BODY_MAX,
        "back": "today" if request.GET.get("back", request.POST.get("back")) == "today" else "",
    }
    return render(request, "leads/compose.html", context)


@any_role
def lead_conversation(request, pk):
    """The conversation card (htmx): the latest messages, older ones on ?before=<id>; the live poll
    sends ?since=<latest id> and gets 204 (nothing to swap) until a message came in or went out."""
    lead = lead_get_for(request.user, pk)
    since, before = request.GET.get("since"), request.GET.get("before")
    if since is not None and since.isdigit() and int(since) == conversation_latest_id(lead=lead):
        return HttpResponse(status=204)
    before_id = int(before) if before and before.isdigit() else None
    items, has_older = conversation_for(lead=lead, before_id=before_id)
    context = {"lead": lead, "items": items, "has_older": has_older}
    if before_id is not None:
        return render(request, "leads/_conversation_items.html", context)
    context["latest_id"] = items[-1].pk if items else 0
    # Seen: Today's "New reply" for this lead goes until the next message comes in.
    conversation_seen(user_id=request.user.pk, lead_id=lead.pk, message_id=context["latest_id"])
    return render(request, "leads/_conversation.html", context)
