from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.decorators import managers_and_admins, role_required
from accounts.models import Role
from leads.selectors import lead_get_for, leads_search
from messaging.inbound_selectors import inbound_emails_unmatched_for
from messaging.inbound_services import inbound_email_discard
from messaging.models import InboundEmail
from messaging.providers.twilio_sms import twilio_configured
from messaging.selectors import outbox_messages_visible_to
from reactions.inbound_email import inbound_email_assign

OUTBOX_PAGE_SIZE = 50


@role_required(Role.REP, Role.MANAGER, Role.ADMIN)
def outbox(request):
    """The development SMS outbox: texts that would have gone out through Twilio."""
    page = Paginator(outbox_messages_visible_to(request.user), OUTBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "messaging/outbox.html", {"page": page, "twilio_configured": twilio_configured()})


# --- Unmatched replies: inbound email no rule could file (reactions.inbound_email) -------------------------

UNMATCHED_PAGE_SIZE = 25
ATTACH_CANDIDATES = 20


@managers_and_admins
def unmatched_replies(request):
    """Emails that matched no lead, for a manager to attach to one or discard."""
    page = Paginator(inbound_emails_unmatched_for(request.user), UNMATCHED_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "messaging/unmatched_replies.html", {"page": page})


def _unmatched_or_404(user, pk) -> InboundEmail:
    return get_object_or_404(inbound_emails_unmatched_for(user), pk=pk)


@managers_and_admins
def unmatched_reply_attach(request, pk):
    """GET: find the lead (among those the manager may see); POST lead=<id>: attach, and the email's
    effects run as if it had matched (a reply exits the cadence and gives the owner a task)."""
    inbound = _unmatched_or_404(request.user, pk)
    if request.method == "POST":
        lead = lead_get_for(request.user, request.POST.get("lead"))
        try:
            inbound_email_assign(inbound=inbound, lead=lead, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Attached to {lead.full_name}.")
        return redirect("unmatched_replies")
    q = request.GET.get("q", "").strip()
    candidates = leads_search(user=request.user, q=q or inbound.from_address)[:ATTACH_CANDIDATES]
    return render(
        request, "messaging/unmatched_reply_attach.html", {"inbound": inbound, "q": q, "candidates": candidates}
    )


@managers_and_admins
@require_POST
def unmatched_reply_discard(request, pk):
    inbound = _unmatched_or_404(request.user, pk)
    inbound_email_discard(inbound=inbound, by=request.user)
    messages.success(request, "Discarded (kept in the admin).")
    return redirect("unmatched_replies")
