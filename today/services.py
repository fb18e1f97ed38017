"""Writes of the Today page that are not touch outcomes (those are cadences.services.touch_complete)."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from cadences.models import TouchStatus
from cadences.services import touch_reassign
from leads.models import Contact, Lead, LeadEvent, LeadSource
from leads.selectors import leads_visible_to, users_assignable_by
from leads.timeline import lead_event_add
from reactions.intake import lead_intake
from reactions.lifecycle import lead_assign
from today.selectors import touches_workable_by

REFERRAL_SOURCE_NAME = "Referral"


def referral_call_log(
    *,
    contact: Contact,
    by: User,
    got_referral: bool,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    email: str = "",
    note: str = "",
) -> Lead | None:
    """Log today's referral call to a customer; with a referral, create its lead (source "Referral",
    referred by the customer, owned by the caller). The customer counts as called either way."""
    first_name = (first_name or "").strip()
    if got_referral:
        errors = {}
        if not first_name:
            errors["first_name"] = ["Who did they refer? Enter a first name."]
        if not (phone or "").strip() and not (email or "").strip():
            errors["phone"] = ["Enter the referral's phone number or email."]
        if errors:
            raise ValidationError(errors)
    lead = None
    now = timezone.now()
    with transaction.atomic():
        if got_referral:
            source, _ = LeadSource.objects.get_or_create(name=REFERRAL_SOURCE_NAME)
            result = lead_intake(
                first_name=first_name,
                last_name=last_name,
                phone=phone,
                email=email,
                source=source,
                how_heard=f"Referred by {contact}",
                interest=note,
                owner=by,
                via="referral",
                actor=by,
                referred_by=contact,
            )
            lead = result.lead
            if result.created is False and lead.referred_by_id is None:
                Lead.objects.filter(pk=lead.pk).update(referred_by=contact)
                lead_event_add(lead=lead, kind=LeadEvent.Kind.NOTE, text=f"Referred by {contact}", actor=by, at=now)
        Contact.objects.filter(pk=contact.pk).update(last_referral_call_at=now)
        contact.last_referral_call_at = now
    return lead


# Team today's bulk reassign ------------------------------------------------------------------

MAX_SELECTED = 200
# ValidationError codes of a rejected bulk reassign (the view answers 404 and 409 for them).
OUT_OF_SCOPE = "out_of_scope"
NOT_OPEN = "not_open"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _be(n: int) -> str:
    return "is" if n == 1 else "are"


@dataclass(frozen=True)
class Reassigned:
    to: User
    tasks: int
    leads: int

    def __str__(self) -> str:
        """ "Reassigned 4 tasks to Bob", "Reassigned 2 leads and 1 task to Bob"."""
        parts = [_count(n, word) for n, word in ((self.leads, "lead"), (self.tasks, "task")) if n]
        return f"Reassigned {' and '.join(parts)} to {self.to}"


def team_reassign(*, by: User, to: User, touch_ids, lead_ids) -> Reassigned:
    """Hand several tasks and leads of `by`'s teams to `to` in one go: all of them or none.

    1. Only managers and admins (PermissionDenied), as for one task (cadences.services.touch_reassign).
    2. Every task must be one `by` may work (today.selectors.touches_workable_by) and every lead one
       `by` may see (leads.selectors.leads_visible_to). Any other id rejects the whole request
       (code OUT_OF_SCOPE); the message says how many, never whether such an id exists.
    3. The selected rows are locked, then every task must still be open (code NOT_OPEN: done or
       moved on in another tab meanwhile).
    4. `to` must be someone users_assignable_by(by) allows.
    5. Each lead goes through reactions.lifecycle.lead_assign (its open and waiting tasks follow,
       the timeline says so, the new owner is notified), then each task through touch_reassign.
    One transaction: a failure anywhere changes nothing.
    """
    if not (by.is_manager or by.is_admin_role):
        raise PermissionDenied("Only managers reassign tasks.")
    touch_ids, lead_ids = sorted(set(touch_ids)), sorted(set(lead_ids))
    if not touch_ids and not lead_ids:
        raise ValidationError("Select at least one task or lead to reassign.")
    if len(touch_ids) + len(lead_ids) > MAX_SELECTED:
        raise ValidationError(f"Select at most {MAX_SELECTED} tasks and leads at a time.")
    with transaction.atomic():
        leads = list(leads_visible_to(by).select_for_update().filter(pk__in=lead_ids).order_by("pk"))
        touches = list(touches_workable_by(by).select_for_update().filter(pk__in=touch_ids).order_by("pk"))
        missing = {"task": len(touch_ids) - len(touches), "lead": len(lead_ids) - len(leads)}
        if any(missing.values()):
            what = " and ".join(_count(n, word) for word, n in missing.items() if n)
            raise ValidationError(
                f"{what} of the selection {_be(sum(missing.values()))} not in your teams: nothing was reassigned.",
                code=OUT_OF_SCOPE,
            )
        closed = sum(1 for touch in touches if touch.status != TouchStatus.SCHEDULED)
        if closed:
            raise ValidationError(
                f"{_count(closed, 'selected task')} {_be(closed)} no longer open (done or reassigned "
                "meanwhile): nothing was reassigned.",
                code=NOT_OPEN,
            )
        if not users_assignable_by(by).filter(pk=to.pk).exists():
            raise ValidationError({"to": ["You cannot assign tasks to this person."]})
        for lead in leads:
            lead_assign(lead=lead, owner=to, by=by)
        for touch in touches:
            touch_reassign(touch=touch, to=to, by=by)
    return Reassigned(to=to, tasks=len(touches), leads=len(leads))
