"""Today's live "New reply" badges: polled every 10 s while the page is visible (static/js/answers.js)."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.decorators import role_required
from accounts.models import Role
from today.reply_selectors import leads_with_new_reply

any_role = role_required(Role.REP, Role.MANAGER, Role.ADMIN)


@require_GET
@any_role
def today_replies(request):
    """Out-of-band swaps of each row's badge slot, for the leads on the page (?lead=…)."""
    lead_ids = [int(v) for v in request.GET.getlist("lead") if v.isdigit()]
    replied = leads_with_new_reply(user=request.user, lead_ids=lead_ids)
    badges = [{"lead_id": lead_id, "new": lead_id in replied} for lead_id in sorted(set(lead_ids))]
    return render(request, "today/_reply_badges.html", {"badges": badges})
