"""Baselines: what a bare Django view costs in the same process, settings and middleware."""

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.template import engines
from django.views.decorators.csrf import csrf_exempt

from cadences.models import Touch
from today.selectors import DEFAULT_LIMIT as TODAY_PAGE_ROWS

LIST_TEMPLATE = engines["django"].from_string(
    "<!doctype html><title>Baseline</title><table>"
    "{% for t in rows %}<tr><td>{{ t.id }}</td><td>{{ t.channel }}</td><td>{{ t.due_at }}</td>"
    "<td>{{ t.status }}</td></tr>{% endfor %}</table>"
)


@login_required
def baseline_list(request):
    """As many rows as a Today page shows, from one table, by an indexed order."""
    rows = list(Touch.objects.filter(assigned_to=request.user).order_by("lead_id", "due_at")[:TODAY_PAGE_ROWS])
    return HttpResponse(LIST_TEMPLATE.render({"rows": rows}, request))


@csrf_exempt
def baseline_json(request):
    """A bare JSON endpoint: parse the body, answer 201 (the intake API's baseline)."""
    data = json.loads(request.body or b"{}")
    return JsonResponse({"ok": True, "fields": len(data)}, status=201)
