"""What converts: won / leads by first-response time, number of attempts, channel and source.

- A lead counts once per bucket: its first attempt's delay (or "Never"), its attempt count
  (5 and more together), each channel it was touched on, its source.
- First response is the first attempt ("Never": never followed up); wasted spend is the cost
  per lead of the source, summed over the leads never followed up. Both are
  reports.selectors.vocabulary's terms: the "Never" bucket and the wasted leads are the same leads.
- A rate rests on its bucket's leads: the rows carry them, the pages show "40% of 5".
"""

from django.db.models import Case, CharField, Count, F, Q, QuerySet, Sum, Value, When

from cadences.models import Channel, Touch
from leads.models import Lead, LeadStatus
from reports.selectors.vocabulary import (
    FIRST_ATTEMPT_FIELD,
    FIVE_MINUTES,
    ONE_DAY,
    ONE_HOUR,
    never_followed_up_q,
    touch_q,
)

RESPONSE_BUCKETS = ["< 5 min", "< 1 hour", "< 1 day", "Later", "Never"]
ATTEMPT_BUCKETS = ["0", "1", "2", "3", "4", "5+"]


def _conversion(rows, key: str, order: list) -> list:
    found = {row[key]: row for row in rows}
    table = []
    for label in order:
        row = found.get(label, {"leads": 0, "won": 0})
        leads = row["leads"]
        table.append(
            {
                "label": label,
                "leads": leads,
                "won": row["won"],
                "rate": round(100 * row["won"] / leads, 1) if leads else None,
            }
        )
    return table


def converts_report(*, leads: QuerySet[Lead]) -> dict:
    """Conversion (won / leads) by first-response bucket, attempts, channel and source: 4 queries."""
    won = Count("pk", filter=Q(status=LeadStatus.WON))
    never = never_followed_up_q()
    first = FIRST_ATTEMPT_FIELD
    response_bucket = Case(
        When(never, then=Value("Never")),
        When(**{f"{first}__lt": F("created_at") + FIVE_MINUTES}, then=Value("< 5 min")),
        When(**{f"{first}__lt": F("created_at") + ONE_HOUR}, then=Value("< 1 hour")),
        When(**{f"{first}__lt": F("created_at") + ONE_DAY}, then=Value("< 1 day")),
        default=Value("Later"),
        output_field=CharField(),
    )
    attempt_bucket = Case(
        *[When(attempt_count=n, then=Value(str(n))) for n in range(5)],
        default=Value("5+"),
        output_field=CharField(),
    )
    by_response = _conversion(
        leads.annotate(bucket=response_bucket).values("bucket").annotate(leads=Count("pk"), won=won).order_by(),
        "bucket",
        RESPONSE_BUCKETS,
    )
    by_attempts = _conversion(
        leads.annotate(bucket=attempt_bucket).values("bucket").annotate(leads=Count("pk"), won=won).order_by(),
        "bucket",
        ATTEMPT_BUCKETS,
    )
    labels = dict(Channel.choices)
    channel_rows = {
        row["channel"]: row
        for row in Touch.objects.filter(lead__in=leads.values("pk"))
        .filter(touch_q())
        .values("channel")
        .annotate(
            leads=Count("lead", distinct=True),
            won=Count("lead", distinct=True, filter=Q(lead__status=LeadStatus.WON)),
        )
        .order_by()
    }
    by_channel = [
        {
            "label": labels[value],
            "leads": channel_rows[value]["leads"],
            "won": channel_rows[value]["won"],
            "rate": round(100 * channel_rows[value]["won"] / channel_rows[value]["leads"], 1),
        }
        for value in Channel.values
        if value in channel_rows and channel_rows[value]["leads"]
    ]
    by_source = list(
        leads.values("source", "source__name", "source__cost_per_lead")
        .annotate(
            leads=Count("pk"),
            won=won,
            never=Count("pk", filter=never),
            spend=Sum("source__cost_per_lead"),
            wasted=Sum("source__cost_per_lead", filter=never),
        )
        .order_by(F("source__name").asc(nulls_last=True))
    )
    for row in by_source:
        row["name"] = row["source__name"] or "No source"
        row["rate"] = round(100 * row["won"] / row["leads"], 1) if row["leads"] else None
        row["cost_per_won"] = (
            (row["spend"] / row["won"]).quantize(row["spend"]) if row["spend"] and row["won"] else None
        )
    spend = sum((row["spend"] or 0) for row in by_source)
    wasted = sum((row["wasted"] or 0) for row in by_source)
    won_total = sum(row["won"] for row in by_source)
    return {
        "by_response": by_response,
        "by_attempts": by_attempts,
        "by_channel": by_channel,
        "by_source": by_source,
        "spend": spend,
        "wasted": wasted,
        "won": won_total,
        "leads": sum(row["leads"] for row in by_source),
        "never": sum(row["never"] for row in by_source),
        "cost_per_won": (spend / won_total) if spend and won_total else None,
    }
