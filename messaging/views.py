from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.decorators import role_required
from accounts.models import Role
from messaging.providers.twilio_sms import twilio_configured
from messaging.selectors import outbox_messages_visible_to

OUTBOX_PAGE_SIZE = 50


@role_required(Role.REP, Role.MANAGER, Role.ADMIN)
def outbox(request):
    """The development SMS outbox: texts that would have gone out through Twilio."""
    page = Paginator(outbox_messages_visible_to(request.user), OUTBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "messaging/outbox.html", {"page": page, "twilio_configured": twilio_configured()})
