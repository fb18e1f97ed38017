from django import template

register = template.Library()


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
