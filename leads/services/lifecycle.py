"""Writes on a lead's life after intake: details, notes, status, owner, merge, the customer it becomes."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import notify
from leads.models import GIVE_UP_STATUSES, OPEN_STATUSES, Appointment, Contact, Lead, LeadEvent, LeadStatus
from leads.phones import phone_display
from leads.services.intake import FIELD_LIMITS, lead_clean_input
from leads.text import multi_line
from leads.timeline import lead_event_add


def lead_update(*, lead: Lead, by: User, **fields) -> Lead:
    """Edit a lead's details; phone/email are re-validated and duplicates refused.

    Every field goes through lead_clean_input again, the input rule included: an edit also cleans
    a name that was saved before the rule (it shows up in "Edited …" like any other change).

    The timezone: a zone named in `timezone_name` is the rep's explicit choice and confirms it;
    `timezone_name=""` goes back to the phone number's guess; without `timezone_name` a confirmed
    zone stays and a guess follows the phone number (a new number, new candidate zones).
    """
    current = {f: getattr(lead, f) for f in FIELD_LIMITS if f != "email"}
    kept_zone = lead.timezone if lead.timezone_confirmed else ""
    merged = {**current, "email": lead.email, "phone": lead.phone, "timezone_name": kept_zone}
    merged.update(fields)
    phone = merged.pop("phone")
    data = lead_clean_input(phone=phone, **merged)
    other = Lead.objects.open().exclude(pk=lead.pk)
    errors = {}
    if lead.is_open and data["phone"] and other.filter(phone=data["phone"]).exists():
        errors["phone"] = ["Another open lead has this phone number: merge them instead."]
    if lead.is_open and data["email"] and other.with_email(data["email"]).exists():
        errors["email"] = ["Another open lead has this email address: merge them instead."]
    if errors:
        raise ValidationError(errors)
    changed = [f for f in data if hasattr(lead, f) and getattr(lead, f) != data[f]]
    if "phone" in changed:
        # A new number gets a fresh start: "wrong number" and "cannot receive SMS" were about the old one.
        changed += [f for f in ("phone_invalid", "sms_unusable") if getattr(lead, f)]
        data.update(phone_invalid=False, sms_unusable=False)
    for f in changed:
        setattr(lead, f, data[f])
    if changed:
        lead.save(update_fields=changed + ["updated_at"])
        lead_event_add(lead=lead, kind=LeadEvent.Kind.EDIT, text=_edit_text(lead, changed), actor=by)
    return lead


def _edit_text(lead: Lead, changed: list[str]) -> str:
    """The timeline line of an edit: the fields changed, and what became of the timezone's confirmation."""
    fields = [
        f for f in changed if f not in ("timezone_candidates", "timezone_confirmed", "phone_invalid", "sms_unusable")
    ]
    parts = ["Edited " + ", ".join(fields)] if fields else []
    if "phone_invalid" in changed:
        parts.append("the new number is no longer marked wrong")
    if lead.timezone_confirmed and {"timezone", "timezone_confirmed"} & set(changed):
        parts.append(f"timezone confirmed: {lead.timezone}")
    elif "timezone_confirmed" in changed:
        parts.append("timezone back to a guess from the phone number")
    text = "; ".join(parts) or "Edited timezone candidates"
    return text[0].upper() + text[1:]


def lead_phone_mark_wrong(*, lead: Lead, by: User | None) -> Lead:
    """ "Wrong number": no calls or texts to this number (consent_skip_reason, task_skip_reason) until
    the lead gets another one (lead_update clears the mark). The timeline says so."""
    if lead.phone_invalid:
        return lead
    lead.phone_invalid = True
    lead.save(update_fields=["phone_invalid", "updated_at"])
    number = phone_display(lead.phone) or "the number"
    lead_event_add(
        lead=lead,
        kind=LeadEvent.Kind.EDIT,
        text=f"Wrong number: {number} marked unusable, no calls or texts to it until it is changed",
        actor=by,
    )
    return lead


def lead_note_add(*, lead: Lead, by: User, text: str) -> LeadEvent:
    text = multi_line(text)  # the input rule of leads/text.py: lines kept, control characters gone
    if not text:
        raise ValidationError({"text": ["Write something first."]})
    if len(text) > 5000:
        raise ValidationError({"text": ["Keep notes under 5000 characters."]})
    return lead_event_add(lead=lead, kind=LeadEvent.Kind.NOTE, text=text, actor=by)


def lead_status_set(*, lead: Lead, status: str, by: User | None, reason: str = "", override: bool = False) -> Lead:
    """Move a lead through its lifecycle (the lead row and its timeline; reactions.lifecycle ends the cadence).

    Giving up (lost, unqualified) needs MIN_ATTEMPTS_BEFORE_CLOSE logged attempts, unless a
    manager or admin overrides with a reason, which is recorded.
    """
    if status not in LeadStatus.values:
        raise ValidationError({"status": [f"Unknown status {status!r}."]})
    if status == lead.status:
        return lead
    minimum = settings.MIN_ATTEMPTS_BEFORE_CLOSE
    if status in GIVE_UP_STATUSES and lead.attempt_count < minimum:
        if not override:
            raise ValidationError(
                {
                    "status": [
                        f"Only {lead.attempt_count} of {minimum} attempts logged. Keep following up, "
                        "or ask a manager to override."
                    ]
                }
            )
        if by is None or not (by.is_manager or by.is_admin_role):
            raise PermissionDenied("Only a manager can close a lead before the minimum attempts.")
        if not reason.strip():
            raise ValidationError({"reason": ["Say why this lead is closed early."]})
    if lead.status not in OPEN_STATUSES and status in OPEN_STATUSES:
        clash = Lead.objects.open().exclude(pk=lead.pk)
        if (lead.phone and clash.filter(phone=lead.phone).exists()) or (
            lead.email and clash.with_email(lead.email).exists()
        ):
            raise ValidationError({"status": ["Another open lead has this phone or email: merge them instead."]})
    old = lead.get_status_display()
    lead.status = status
    now = timezone.now()
    closing = status not in OPEN_STATUSES
    lead.closed_at = now if closing else None
    lead.close_reason = reason.strip()[:300] if closing else ""
    lead.save(update_fields=["status", "closed_at", "close_reason", "updated_at"])
    text = f"Status: {old} → {lead.get_status_display()}"
    if override and status in GIVE_UP_STATUSES and lead.attempt_count < minimum:
        text += f" (manager override after {lead.attempt_count} attempts)"
    if reason:
        text += f". Reason: {reason.strip()}"
    lead_event_add(
        lead=lead,
        kind=LeadEvent.Kind.STATUS,
        text=text,
        actor=by,
        data={"from": old, "to": status, "override": override, "attempts": lead.attempt_count},
    )
    if status == LeadStatus.WON:
        contact_create_from_lead(lead=lead)
    return lead


def appointments_cancel_for_lead(*, lead: Lead, by: User | None, why: str) -> list[int]:
    """The lead's meetings still to come are cancelled (a lead closed as lost); returns their ids."""
    ids = list(Appointment.objects.filter(lead=lead, status=Appointment.Status.SCHEDULED).values_list("pk", flat=True))
    if ids:
        Appointment.objects.filter(pk__in=ids).update(status=Appointment.Status.CANCELLED)
        lead_event_add(
            lead=lead,
            kind=LeadEvent.Kind.APPOINTMENT,
            text=f"Appointment cancelled: {why}",
            actor=by,
            at=timezone.now(),
        )
    return ids


def contact_create_from_lead(*, lead: Lead) -> Contact:
    contact, _ = Contact.objects.get_or_create(
        lead=lead,
        defaults={
            "first_name": lead.first_name,
            "last_name": lead.last_name,
            "phone": lead.phone,
            "email": lead.email,
            "company": lead.company,
            "owner": lead.owner,
        },
    )
    return contact


def lead_owner_set(*, lead: Lead, owner: User, by: User) -> bool:
    """Give the lead to another rep or manager (the lead row, timeline, notification). Returns whether it changed.

    reactions.lifecycle.lead_assign also hands over the lead's open tasks.
    """
    if owner.role != Role.REP and not owner.is_manager:
        raise ValidationError({"owner": ["Leads go to reps or managers."]})
    if lead.owner_id == owner.pk:
        return False
    previous = lead.owner
    lead.owner = owner
    lead.team = owner.team or lead.team
    lead.save(update_fields=["owner", "team", "updated_at"])
    lead_event_add(
        lead=lead,
        kind=LeadEvent.Kind.ASSIGNMENT,
        text=f"Assigned to {owner}" + (f" (was {previous})" if previous else ""),
        actor=by,
    )
    notify(user=owner, lead=lead, text=f"{by} assigned {lead.full_name} to you.")
    return True


def leads_lock_for_merge(*, primary: Lead, duplicate: Lead) -> tuple[Lead, Lead]:
    """Both leads, re-read under a row lock (call inside a transaction)."""
    if primary.pk == duplicate.pk:
        raise ValidationError("Choose two different leads to merge.")
    return (
        Lead.objects.select_for_update().get(pk=primary.pk),
        Lead.objects.select_for_update().get(pk=duplicate.pk),
    )


def lead_fold_duplicate(*, primary: Lead, duplicate: Lead, by: User) -> Lead:
    """The lead side of a merge: the duplicate's timeline moves over, blanks are filled, the counters add up,
    the earliest arrival and first response win, and the duplicate is deleted (its details kept in the
    merge entry). Its touches and messages must have moved first (reactions.merge.lead_merge)."""
    snapshot = {
        f: str(getattr(duplicate, f))
        for f in ("first_name", "last_name", "phone", "email", "company", "status", "interest", "how_heard")
    }
    LeadEvent.objects.filter(lead=duplicate).update(lead=primary)
    Lead.objects.filter(referred_by__isnull=False, pk=duplicate.pk).update(referred_by=None)
    fill = [
        f
        for f in ("email", "phone", "company", "last_name", "twitter_handle", "linkedin_url", "interest", "how_heard")
        if not getattr(primary, f) and getattr(duplicate, f)
    ]
    values = {f: getattr(duplicate, f) for f in fill}
    for flag in ("email_opt_out", "sms_opt_out", "call_opt_out", "email_invalid", "sms_unusable"):
        if getattr(duplicate, flag):
            values[flag] = True
    values["attempt_count"] = primary.attempt_count + duplicate.attempt_count
    values["objection_count"] = primary.objection_count + duplicate.objection_count
    if duplicate.first_response_at and (
        not primary.first_response_at or duplicate.first_response_at < primary.first_response_at
    ):
        values["first_response_at"] = duplicate.first_response_at
    if duplicate.created_at < primary.created_at:
        values["created_at"] = duplicate.created_at
    duplicate.delete()
    for f, v in values.items():
        setattr(primary, f, v)
    primary.save()
    lead_event_add(
        lead=primary,
        kind=LeadEvent.Kind.MERGE,
        text=f"Merged duplicate lead {snapshot['first_name']} {snapshot['last_name']} into this one",
        actor=by,
        data={"merged": snapshot},
    )
    return primary
