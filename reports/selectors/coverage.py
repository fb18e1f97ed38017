"""Coverage: how many leads got 1, 2 and 5 attempts, and the leads nobody ever followed up.

Attempts, followed up and "reached only by automated messages" are reports.selectors.vocabulary's
terms: the same "followed up" as Feedback Friday, What converts and Speed to lead.
"""

from django.db.models import Count, Q, QuerySet

from leads.models import Lead
from reports.selectors.vocabulary import automated_only_q, followed_up_q, never_followed_up_q


def coverage_report(*, leads: QuerySet[Lead]) -> dict:
    """Counts of leads with at least 1, 2 and 5 attempts, never followed up, automated only (1 query)."""
    return leads.aggregate(
        total=Count("pk"),
        ge1=Count("pk", filter=followed_up_q()),  # = followed up: ge1 + never = total
        ge2=Count("pk", filter=Q(attempt_count__gte=2)),
        ge5=Count("pk", filter=Q(attempt_count__gte=5)),
        never=Count("pk", filter=never_followed_up_q()),
        automated_only=Count("pk", filter=automated_only_q()),
    )


def never_followed_up_open_leads(*, leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """Open leads with no attempt yet (whatever the system sent), oldest first."""
    return leads.open().filter(never_followed_up_q()).select_related("owner", "source").order_by("created_at", "pk")
