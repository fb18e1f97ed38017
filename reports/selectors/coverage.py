"""Coverage: how many leads got 1, 2 and 5 attempts, and the open leads nobody ever followed up.

See reports.selectors.conditions for attempts, automated sends and "never followed up".
"""

from django.db.models import Count, Q, QuerySet

from leads.models import Lead
from reports.selectors.conditions import automated_send_exists, never_followed_up_q


def coverage_report(*, leads: QuerySet[Lead]) -> dict:
    """Shares of leads with at least 1, 2 and 5 attempts (1 query)."""
    figures = leads.aggregate(
        total=Count("pk"),
        ge1=Count("pk", filter=Q(attempt_count__gte=1)),
        ge2=Count("pk", filter=Q(attempt_count__gte=2)),
        ge5=Count("pk", filter=Q(attempt_count__gte=5)),
        automated_only=Count("pk", filter=Q(attempt_count=0) & automated_send_exists()),
        never=Count("pk", filter=never_followed_up_q()),
    )
    total = figures["total"]
    for key in ("ge1", "ge2", "ge5", "automated_only", "never"):
        figures[f"{key}_pct"] = round(100 * figures[key] / total, 1) if total else None
    return figures


def never_touched_open_leads(*, leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """Open leads with no attempt and no automated send, oldest first."""
    return leads.open().filter(never_followed_up_q()).select_related("owner", "source").order_by("created_at", "pk")
