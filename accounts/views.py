from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from accounts.models import Role


@login_required
def home(request):
    """Each role starts where its work is."""
    if request.user.role == Role.REP and not request.user.is_superuser:
        return redirect("today:index")
    return redirect("today:team")


@login_required
def notification_list(request):
    notifications = list(request.user.notifications.select_related("lead")[:50])
    request.user.notifications.filter(read_at__isnull=True).update(read_at=timezone.now())
    return render(request, "accounts/notifications.html", {"notifications": notifications})


@never_cache
def healthz(request):
    """Liveness for load balancers and docker compose: 200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
