from django import template

from messaging.inbound_selectors import inbound_emails_unmatched_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unmatched_replies_count(context) -> int:
    """For the navigation of managers and admins only (one COUNT on the state index)."""
    return inbound_emails_unmatched_count(context["request"].user)
