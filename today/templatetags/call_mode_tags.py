"""The Today page's way into call mode: how many calls it has for the rep."""

from django import template

from today.call_mode import calls_count

register = template.Library()


@register.simple_tag
def calls_today(rep) -> int:
    """`{% calls_today rep as n %}`: the leads with a call due by the end of `rep`'s day (one query)."""
    return calls_count(rep=rep) if rep is not None else 0
