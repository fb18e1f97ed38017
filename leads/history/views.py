"""History pages: who changed what on a lead (managers and admins) and on a cadence (admins).

A lead's history is scoped like the lead itself (`lead_get_for`: a manager sees only their
teams' leads; others' are 404). Rows come from django-simple-history; the user of a change
made in a request is recorded by its HistoryRequestMiddleware.
"""

from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from accounts.decorators import admins_only, managers_and_admins
from cadences.models import Cadence, CadenceStep
from leads.history.entries import history_entries
from leads.models import Lead
from leads.selectors import lead_get_for

HISTORY_LIMIT = 200


def _latest(queryset, limit=HISTORY_LIMIT):
    # One row more than shown: the oldest shown change is diffed against it.
    return list(queryset.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])


@managers_and_admins
def lead_history(request, pk):
    lead = lead_get_for(request.user, pk)
    records = _latest(Lead.history.filter(id=lead.pk))
    entries = history_entries(records)[:HISTORY_LIMIT]
    return render(
        request,
        "history/changes.html",
        {
            "title": f"History of {lead.full_name}",
            "back_url": reverse("leads:detail", args=[lead.pk]),
            "entries": entries,
        },
    )


@admins_only
def cadence_history(request, pk):
    cadence = get_object_or_404(Cadence, pk=pk)
    entries = history_entries(_latest(Cadence.history.filter(id=cadence.pk)), subject=lambda r: "Settings")
    entries += history_entries(
        _latest(CadenceStep.history.filter(cadence_id=cadence.pk)),
        subject=lambda r: f"Day {r.day} {r.get_channel_display()} step",
    )
    entries.sort(key=lambda e: e.at, reverse=True)
    return render(
        request,
        "history/changes.html",
        {
            "title": f"History of {cadence.name}",
            "back_url": reverse("cadences:detail", args=[cadence.pk]),
            "entries": entries[:HISTORY_LIMIT],
        },
    )
