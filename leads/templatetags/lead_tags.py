"""Small display helpers for lead pages: status badges and readable phone numbers."""

from django import template

from leads.models import LeadStatus
from leads.phones import phone_display

register = template.Library()

STATUS_BADGES = {
    LeadStatus.NEW: "text-bg-primary",
    LeadStatus.WORKING: "text-bg-info",
    LeadStatus.APPOINTMENT: "text-bg-warning",
    LeadStatus.NURTURING: "text-bg-secondary",
    LeadStatus.WON: "text-bg-success",
    LeadStatus.LOST: "text-bg-dark",
    LeadStatus.UNQUALIFIED: "text-bg-light border",
}


@register.filter
def status_badge(status: str) -> str:
    """The Bootstrap badge classes for a lead status."""
    return STATUS_BADGES.get(status, "text-bg-secondary")


@register.filter
def phone(e164: str) -> str:
    """+14155550123 → (415) 555-0123 in the organisation's region, +44 20 7946 0958 elsewhere."""
    return phone_display(e164)
