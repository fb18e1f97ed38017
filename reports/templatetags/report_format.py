"""How the reports write their figures: durations, rates with their sample size, money, "few data".

A rate is always "40% of 5": the share and the number of leads it is of. Below FEW_DATA_BELOW
leads (reports.selectors.vocabulary) a rate or a median is greyed and marked "few data", on the
pages (classes), in the HTML email (the same words) and in the text email (plain=True).
"""

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from reports.money import money_display
from reports.selectors.vocabulary import FEW_DATA_BELOW

register = template.Library()
# A rate of no leads: a dash, never "0%".
NO_LEADS = mark_safe('<span class="text-body-secondary" data-n="0">—</span>')  # noqa: S308  # nosec B308 B703 - a constant
FEW_TITLE = f"Fewer than {FEW_DATA_BELOW} leads: too few to read much into"


@register.filter
def duration(value) -> str:
    """A timedelta as a short human figure: "45 s", "12 min", "3.5 h", "2.1 days"; "—" for none."""
    if value is None or value == "":
        return "—"
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


@register.filter
def pct(value) -> str:
    """A percentage figure ("—" when there is nothing to divide)."""
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}%"
    return f"{value:.0f}%"


@register.filter
def few(n) -> bool:
    """Too few leads to read much into (greyed, "few data")."""
    return (n or 0) < FEW_DATA_BELOW


def share_text(part, whole, counts: bool = False) -> str:
    """ "40% of 5" (or with `counts` "2 of 5 (40%)"), "—" of nothing; whole percents (a share of a
    handful has no decimals to speak of)."""
    if not whole:
        return f"{part or 0} of 0" if counts else "—"
    percent = round(100 * (part or 0) / whole)
    return f"{part or 0} of {whole} ({percent}%)" if counts else f"{percent}% of {whole}"


@register.simple_tag
def share(part, whole, plain=False, counts=False):
    """A rate with its sample size: "40% of 5", greyed and marked "few data" below FEW_DATA_BELOW.

    `plain`: text for the text email ("40% of 3, few data"); `counts`: "2 of 5 (40%)".
    """
    text = share_text(part, whole, counts)
    if plain:
        return f"{text}, few data" if whole and few(whole) else text
    if not whole:
        return NO_LEADS
    if few(whole):
        return format_html(
            '<span class="text-body-secondary" data-n="{}" data-few="1" title="{}">{} '
            '<span class="badge text-bg-light border fw-normal">few data</span></span>',
            whole,
            FEW_TITLE,
            text,
        )
    return format_html('<span data-n="{}">{}</span>', whole, text)


@register.simple_tag
def stat(value, n, plain=False, badge=True):
    """A median or p90 (a timedelta) with the number of leads it rests on, "few data" below FEW_DATA_BELOW.

    `badge=False` greys a figure whose neighbour already says it (a p90 beside its median).
    """
    text = duration(value)
    if value is None or value == "":
        return text
    if plain:
        return f"{text} (n={n}, few data)" if few(n) else f"{text} (n={n})"
    if not badge:
        if few(n):
            return format_html('<span class="text-body-secondary" data-n="{}" data-few="1">{}</span>', n, text)
        return format_html('<span data-n="{}">{}</span>', n, text)
    if few(n):
        return format_html(
            '<span class="text-body-secondary" data-n="{}" data-few="1" title="{}">{} '
            '<span class="badge text-bg-light border fw-normal">few data · n={}</span></span>',
            n,
            FEW_TITLE,
            text,
            n,
        )
    return format_html('<span data-n="{}">{} <span class="small text-muted">n={}</span></span>', n, text, n)


@register.filter
def money(amount) -> str:
    """An amount in the organisation's currency with no false precision ("$333", "$12.50")."""
    return money_display(amount)
