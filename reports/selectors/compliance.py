"""Five-attempts compliance: given-up leads with fewer than the minimum attempts, per rep.

Given up, abandoned, closed early and attempts are reports.selectors.vocabulary's terms; "too
early" is given up with fewer than settings.MIN_ATTEMPTS_BEFORE_CLOSE attempts (closed early, or
abandoned that soon). A "no" is a manual touch logged as "not interested"
(``Lead.objection_count``); the give-up distribution compares the leads given up after 1 to 4 of
them with the industry's figures.
"""

import datetime as dt

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet

from accounts.models import User
from leads.models import Lead
from reports.selectors.vocabulary import abandoned_q, closed_early_q, flag, given_up_q, too_few_attempts_q

INDUSTRY_GIVE_UP = {1: 44, 2: 22, 3: 14, 4: 12}


def compliance_report(*, leads: QuerySet[Lead], now: dt.datetime) -> dict:
    """Given-up leads with fewer than the minimum attempts per rep (1 query), and the give-up distribution (1)."""
    minimum = settings.MIN_ATTEMPTS_BEFORE_CLOSE
    given_up = leads.filter(given_up_q(now))
    abandoned = abandoned_q(now)
    early = too_few_attempts_q()
    per_rep = list(
        given_up.values("owner", "owner__first_name", "owner__last_name", "owner__username")
        .annotate(
            given_up=Count("pk"),
            early=Count("pk", filter=early),
            early_closed=Count("pk", filter=closed_early_q()),
            early_abandoned=Count("pk", filter=early & abandoned),
        )
        .order_by("-early", F("owner__first_name").asc(nulls_last=True), "owner__username")
    )
    for row in per_rep:
        name = f"{row['owner__first_name']} {row['owner__last_name']}".strip()
        row["name"] = name or row["owner__username"] or "Unassigned"
    distribution = given_up.aggregate(
        total=Count("pk"),
        no_0=Count("pk", filter=Q(objection_count=0)),
        no_1=Count("pk", filter=Q(objection_count=1)),
        no_2=Count("pk", filter=Q(objection_count=2)),
        no_3=Count("pk", filter=Q(objection_count=3)),
        no_4=Count("pk", filter=Q(objection_count=4)),
        no_5=Count("pk", filter=Q(objection_count__gte=5)),
    )
    with_no = distribution["total"] - distribution["no_0"]
    give_up = [
        {
            "nos": nos,
            "count": distribution[f"no_{nos}"],
            "share": round(100 * distribution[f"no_{nos}"] / with_no, 1) if with_no else None,
            "industry": INDUSTRY_GIVE_UP[nos],
        }
        for nos in (1, 2, 3, 4)
    ]
    return {
        "per_rep": per_rep,
        "given_up_total": distribution["total"],
        "given_up_with_no": with_no,
        "given_up_without_no": distribution["no_0"],
        "given_up_after_5_plus": distribution["no_5"],
        "give_up": give_up,
        "early_total": sum(row["early"] for row in per_rep),
        "minimum": minimum,
    }


def compliance_leads(*, leads: QuerySet[Lead], rep: User, now: dt.datetime) -> QuerySet[Lead]:
    """Drill-down: one rep's given-up leads with fewer than the minimum attempts."""
    return (
        leads.filter(owner=rep)
        .filter(given_up_q(now) & too_few_attempts_q())
        .annotate(abandoned=flag(abandoned_q(now)))
        .select_related("source")
        .order_by("-created_at", "-pk")
    )
