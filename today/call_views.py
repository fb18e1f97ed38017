"""Call mode: today's calls one lead at a time, the next card loading in place after each outcome.

The walk keeps its state in the request, not the session: `skip` (the touches skipped, in order),
`done` (calls logged in this walk, for "x of N left") and, for a manager, `rep`. Each answer carries
them forward, so a reload or a second tab picks up where the address says.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from cadences.models import Outcome
from reactions.outcomes import touch_complete
from today import call_mode, selectors
from today.forms import OutcomeForm

MAX_SKIPPED = 200


def _rep_for(request, value):
    """The rep whose calls these are: the user, or (`?rep=`) one of a manager's teams' reps; 404 otherwise."""
    if value in (None, "", str(request.user.pk)):
        return request.user
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise Http404("No such rep.") from None
    return get_object_or_404(selectors.team_reps_for(request.user), pk=pk)


def _ints(text: str) -> list[int]:
    # Ids written by our own pages; anything else is ignored rather than refused: it only orders the walk.
    out = []
    for part in (text or "").split(",")[:MAX_SKIPPED]:
        part = part.strip()
        if part.isdigit():
            out.append(int(part))
    return out


def _count(text: str) -> int:
    return int(text) if (text or "").isdigit() and len(text) < 6 else 0


def _state_query(*, rep, user, skipped, done, logged=None) -> str:
    params = {}
    if rep.pk != user.pk:
        params["rep"] = rep.pk
    if skipped:
        params["skip"] = ",".join(map(str, skipped))
    if done:
        params["done"] = done
    if logged:
        params["logged"] = logged
    return urlencode(params)


def _logged_line(outcome: str, lead) -> str:
    return format_html("{} logged for <strong>{}</strong>.", Outcome(outcome).label, lead.full_name)


def _context(request, *, rep, skipped, done, error="", logged=""):
    queue = call_mode.call_queue(rep=rep, skipped=skipped)
    current = queue.card.touch if queue.card else None
    skip_next = [pk for pk in queue.skipped if current is None or pk != current.pk]
    if current is not None:
        skip_next.append(current.pk)
    viewing_other = rep.pk != request.user.pk
    call_url = reverse("today:call_mode")
    state = {"rep": rep, "user": request.user}
    booked = current.pk if current else None
    return {
        "queue": queue,
        "card": queue.card,
        "rep": rep,
        "viewing_other": viewing_other,
        "done": done,
        "total": queue.left + done,
        "skipped_value": ",".join(map(str, queue.skipped)),
        "skip_url": f"{call_url}?{_state_query(**state, skipped=skip_next, done=done)}",
        "state_url": f"{call_url}?{_state_query(**state, skipped=queue.skipped, done=done)}",
        # Where the card goes once the appointment dialog booked the call on screen (static/js/call_mode.js).
        "next_url": f"{call_url}?{_state_query(**state, skipped=queue.skipped, done=done + 1, logged=booked)}",
        "back_url": reverse("today:team_rep", args=[rep.pk]) if viewing_other else reverse("today:index"),
        "outcomes": call_mode.call_outcomes(),
        "error": error,
        "logged": logged,
    }


def _card_response(request, context, *, status=200):
    if request.htmx:
        response = render(request, "today/_call_card.html", context, status=status)
        # The address keeps the walk's state, so a reload resumes it.
        response["HX-Replace-Url"] = context["state_url"]
        return response
    return render(request, "today/call_mode.html", context, status=status)


@require_GET
@login_required
def call_mode_view(request):
    rep = _rep_for(request, request.GET.get("rep"))
    logged = ""
    for pk in _ints(request.GET.get("logged"))[:1]:
        # The call just logged by the appointment dialog: say so above the next one.
        done_touch = call_mode.call_logged_for(user=request.user, pk=pk)
        logged = _logged_line(done_touch.outcome, done_touch.lead) if done_touch else ""
    context = _context(
        request, rep=rep, skipped=_ints(request.GET.get("skip")), done=_count(request.GET.get("done")), logged=logged
    )
    return _card_response(request, context)


@require_POST
@login_required
def call_outcome(request, pk):
    touch = selectors.touch_get_for(request.user, pk)
    rep = _rep_for(request, request.POST.get("rep"))
    skipped, done = _ints(request.POST.get("skip")), _count(request.POST.get("done"))
    form = OutcomeForm(request.POST, allowed=call_mode.call_outcomes())
    if not form.is_valid():
        context = _context(request, rep=rep, skipped=skipped, done=done, error="Pick one of the call outcomes shown.")
        return _card_response(request, context, status=400)
    outcome = form.cleaned_data["outcome"]
    try:
        touch_complete(touch=touch, outcome=outcome, by=request.user, note=form.cleaned_data["note"])
    except PermissionDenied:
        raise Http404("No such task.") from None
    except ValidationError as exc:
        message = f"{touch.lead.full_name}: {' '.join(exc.messages)}"
        context = _context(request, rep=rep, skipped=skipped, done=done, error=message)
        return _card_response(request, context, status=400)
    done += 1
    if not request.htmx:
        return redirect(
            f"{reverse('today:call_mode')}?{_state_query(rep=rep, user=request.user, skipped=skipped, done=done)}"
        )
    context = _context(request, rep=rep, skipped=skipped, done=done, logged=_logged_line(outcome, touch.lead))
    if outcome == Outcome.NOT_INTERESTED:
        _ask_decision(request, context, touch=touch, rep=rep, skipped=skipped, done=done)
    return _card_response(request, context)


def _ask_decision(request, context, *, touch, rep, skipped, done) -> None:
    """After "Not interested", the same three choices as Today (close as lost, nurture, keep going),
    answered by Today's decision endpoint; the next call loads once the rep chose."""
    try:
        url = reverse("today:decision", args=[touch.lead_id])
    except NoReverseMatch:
        return
    lead = touch.lead
    lead.refresh_from_db()
    if not lead.is_open:
        return
    call_url, state = reverse("today:call_mode"), {"rep": rep, "user": request.user, "skipped": skipped, "done": done}
    context["decision"] = {
        "url": url,
        "touch": touch,
        "lead": lead,
        "attempts": lead.attempt_count,
        "minimum": settings.MIN_ATTEMPTS_BEFORE_CLOSE,
        "may_close": lead.attempt_count >= settings.MIN_ATTEMPTS_BEFORE_CLOSE,
        "manager": request.user.is_manager or request.user.is_admin_role,
        # Without htmx the endpoint redirects here.
        "after": f"{call_url}?{_state_query(**state)}",
    }
    context["next_url"] = f"{call_url}?{_state_query(**state, logged=touch.pk)}"
