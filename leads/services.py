"""Writes on leads: intake (with duplicate detection), assignment, notes, status, merge, API keys."""

import hashlib
import secrets
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Notification, Role, Team, User
from leads.models import (
    GIVE_UP_STATUSES,
    OPEN_STATUSES,
    Contact,
    Lead,
    LeadEvent,
    LeadSource,
    LeadStatus,
)
from leads.phones import phone_normalize, timezone_for_phone
from leads.timeline import lead_event_add

# Longest value accepted per intake field; longer input is an error, never silently cut.
FIELD_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "company": 200,
    "how_heard": 300,
    "interest": 1000,
    "twitter_handle": 50,
    "linkedin_url": 200,
    "email": 254,
}


@dataclass
class IntakeResult:
    lead: Lead
    created: bool


def lead_clean_input(
    *,
    first_name: str,
    last_name: str = "",
    phone: str = "",
    email: str = "",
    company: str = "",
    how_heard: str = "",
    interest: str = "",
    timezone_name: str = "",
    twitter_handle: str = "",
    linkedin_url: str = "",
) -> dict:
    """Validate and normalise intake fields; raise ValidationError({field: [messages]}) on any bad value."""
    data = {
        "first_name": (first_name or "").strip(),
        "last_name": (last_name or "").strip(),
        "company": (company or "").strip(),
        "how_heard": (how_heard or "").strip(),
        "interest": (interest or "").strip(),
        "twitter_handle": (twitter_handle or "").strip().lstrip("@"),
        "linkedin_url": (linkedin_url or "").strip(),
        "email": (email or "").strip(),
    }
    errors: dict[str, list[str]] = {}
    for field, limit in FIELD_LIMITS.items():
        if len(data[field]) > limit:
            errors.setdefault(field, []).append(f"Ensure this value has at most {limit} characters.")
        if "\x00" in data[field]:
            errors.setdefault(field, []).append("Null characters are not allowed.")
    if not data["first_name"]:
        errors.setdefault("first_name", []).append("Enter the lead's first name.")
    try:
        data["phone"] = phone_normalize(phone)
    except ValidationError as exc:
        errors.setdefault("phone", []).extend(exc.messages)
        data["phone"] = ""
    if data["email"] and "email" not in errors:
        try:
            EmailValidator(message="Enter a valid email address.")(data["email"])
        except ValidationError as exc:
            errors.setdefault("email", []).extend(exc.messages)
    if data["linkedin_url"] and "linkedin_url" not in errors:
        try:
            URLValidator(schemes=["http", "https"], message="Enter a valid LinkedIn URL.")(data["linkedin_url"])
        except ValidationError as exc:
            errors.setdefault("linkedin_url", []).extend(exc.messages)
    if not data["phone"] and not data["email"] and "phone" not in errors and "email" not in errors:
        errors.setdefault("phone", []).append("Give a phone number or an email address.")
    tz = (timezone_name or "").strip()
    if tz:
        try:
            if len(tz) > 64:
                raise ValueError(tz)
            zoneinfo.ZoneInfo(tz)
        # A folder of the tz database ("America") or an over-long name is an OSError, not a lookup miss.
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            errors.setdefault("timezone", []).append(f"Unknown timezone {tz[:64]!r}; use a name like America/Chicago.")
    if errors:
        raise ValidationError(errors)
    data["timezone"] = tz or timezone_for_phone(data["phone"]) or settings.TIME_ZONE
    return data


def lead_find_open_duplicate(*, phone: str, email: str) -> Lead | None:
    """The open lead with the same phone or email (case-insensitive), phone first."""
    if phone:
        lead = Lead.objects.open().filter(phone=phone).first()
        if lead:
            return lead
    if email:
        return Lead.objects.open().filter(email__iexact=email).first()
    return None


def owner_next_for_team(*, team: Team) -> User | None:
    """Round-robin: the active rep of `team` after the one who got the previous lead.

    The team row is locked so that concurrent intakes hand out reps in turn.
    """
    team = Team.objects.select_for_update().get(pk=team.pk)
    rep_ids = list(
        User.objects.filter(team=team, role=Role.REP, is_active=True, accepts_new_leads=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not rep_ids:
        return None
    last = team.last_assigned_rep_id or 0
    next_id = next((rid for rid in rep_ids if rid > last), rep_ids[0])
    team.last_assigned_rep_id = next_id
    team.save(update_fields=["last_assigned_rep"])
    return User.objects.get(pk=next_id)


def notify(*, user: User | None, text: str, lead: Lead | None = None) -> None:
    if user is not None:
        Notification.objects.create(user=user, text=text[:300], lead=lead)


def _inquiry_payload(data: dict, *, source: LeadSource | None, via: str) -> dict:
    return {
        "via": via,
        "source": source.name if source else "",
        **{k: data[k] for k in ("first_name", "last_name", "phone", "email", "company", "how_heard", "interest")},
    }


def _inquiry_text(data: dict, *, source: LeadSource | None, via: str) -> str:
    where = f"{source.name} ({via})" if source else via
    text = f"Inquiry via {where}"
    if data.get("interest"):
        text += f": {data['interest']}"
    return text


def lead_intake(
    *,
    first_name: str,
    last_name: str = "",
    phone: str = "",
    email: str = "",
    company: str = "",
    source: LeadSource | None = None,
    how_heard: str = "",
    interest: str = "",
    owner: User | None = None,
    timezone_name: str = "",
    twitter_handle: str = "",
    linkedin_url: str = "",
    via: str = "form",
    actor: User | None = None,
    referred_by: Contact | None = None,
    at=None,
) -> IntakeResult:
    """Capture an inquiry: create the lead, or add it to the open lead with the same phone/email.

    Every intake path (phone form, API, CSV import, referral, inbound SMS) comes through here.
    A new lead gets an owner (round-robin within the source's team unless given), its first
    timeline entry, and its cadence, whose instant touches are enqueued when this commits.
    Two concurrent intakes of the same phone meet the partial unique constraint; the loser
    lands on the winner's lead.
    """
    data = lead_clean_input(
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        email=email,
        company=company,
        how_heard=how_heard,
        interest=interest,
        timezone_name=timezone_name,
        twitter_handle=twitter_handle,
        linkedin_url=linkedin_url,
    )
    now = at or timezone.now()
    with transaction.atomic():
        existing = lead_find_open_duplicate(phone=data["phone"], email=data["email"])
        if existing is None:
            try:
                with transaction.atomic():
                    lead = _lead_create(
                        data, source=source, owner=owner, actor=actor, via=via, referred_by=referred_by, at=now
                    )
                return IntakeResult(lead=lead, created=True)
            except IntegrityError:
                existing = lead_find_open_duplicate(phone=data["phone"], email=data["email"])
                if existing is None:
                    raise
        _inquiry_add_to_existing(existing, data, source=source, actor=actor, via=via, at=now)
        return IntakeResult(lead=existing, created=False)


def _lead_create(data, *, source, owner, actor, via, referred_by, at) -> Lead:
    team = owner.team if owner else (source.team if source else None)
    if owner is None and team is not None:
        owner = owner_next_for_team(team=team)
    lead = Lead.objects.create(
        first_name=data["first_name"],
        last_name=data["last_name"],
        phone=data["phone"],
        email=data["email"],
        company=data["company"],
        how_heard=data["how_heard"],
        interest=data["interest"],
        twitter_handle=data["twitter_handle"],
        linkedin_url=data["linkedin_url"],
        timezone=data["timezone"],
        source=source,
        owner=owner,
        team=team,
        referred_by=referred_by,
        created_at=at,
    )
    lead_event_add(
        lead=lead,
        kind=LeadEvent.Kind.INQUIRY,
        text=_inquiry_text(data, source=source, via=via),
        actor=actor,
        data=_inquiry_payload(data, source=source, via=via),
        at=at,
    )
    if owner is not None:
        notify(user=owner, lead=lead, text=f"New lead assigned to you: {lead.full_name}")
        from messaging.services import rep_alert_new_lead_enqueue

        transaction.on_commit(lambda: rep_alert_new_lead_enqueue(lead_id=lead.pk))
    from cadences.services import enrollment_start_for_new_lead

    enrollment_start_for_new_lead(lead=lead, by=actor)
    return lead


def _inquiry_add_to_existing(lead: Lead, data, *, source, actor, via, at) -> None:
    lead_event_add(
        lead=lead,
        kind=LeadEvent.Kind.INQUIRY,
        text="Again: " + _inquiry_text(data, source=source, via=via),
        actor=actor,
        data={**_inquiry_payload(data, source=source, via=via), "duplicate": True},
        at=at,
    )
    # Fill blanks the new inquiry knows about; never overwrite what the rep has.
    changed = []
    for field in ("email", "phone", "company", "last_name"):
        if not getattr(lead, field) and data.get(field):
            if field in ("email", "phone") and lead_find_open_duplicate(
                **{"phone": "", "email": "", field: data[field]}
            ):
                continue
            setattr(lead, field, data[field])
            changed.append(field)
    if changed:
        lead.save(update_fields=changed + ["updated_at"])
    notify(user=lead.owner, lead=lead, text=f"{lead.full_name} got in touch again ({via}).")


def lead_update(*, lead: Lead, by: User, **fields) -> Lead:
    """Edit a lead's details; phone/email are re-validated and duplicates refused."""
    current = {f: getattr(lead, f) for f in FIELD_LIMITS if f != "email"}
    merged = {**current, "email": lead.email, "phone": lead.phone, "timezone_name": lead.timezone}
    merged.update(fields)
    phone = merged.pop("phone")
    data = lead_clean_input(phone=phone, **merged)
    other = Lead.objects.open().exclude(pk=lead.pk)
    errors = {}
    if lead.is_open and data["phone"] and other.filter(phone=data["phone"]).exists():
        errors["phone"] = ["Another open lead has this phone number: merge them instead."]
    if lead.is_open and data["email"] and other.filter(email__iexact=data["email"]).exists():
        errors["email"] = ["Another open lead has this email address: merge them instead."]
    if errors:
        raise ValidationError(errors)
    changed = [f for f in data if hasattr(lead, f) and getattr(lead, f) != data[f]]
    for f in changed:
        setattr(lead, f, data[f])
    if changed:
        lead.save(update_fields=changed + ["updated_at"])
        lead_event_add(lead=lead, kind=LeadEvent.Kind.EDIT, text="Edited " + ", ".join(changed), actor=by)
    return lead


def lead_note_add(*, lead: Lead, by: User, text: str) -> LeadEvent:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": ["Write something first."]})
    if len(text) > 5000:
        raise ValidationError({"text": ["Keep notes under 5000 characters."]})
    return lead_event_add(lead=lead, kind=LeadEvent.Kind.NOTE, text=text, actor=by)


def lead_status_change(*, lead: Lead, status: str, by: User | None, reason: str = "", override: bool = False) -> Lead:
    """Move a lead through its lifecycle.

    Giving up (lost, unqualified) needs MIN_ATTEMPTS_BEFORE_CLOSE logged attempts, unless a
    manager or admin overrides with a reason, which is recorded. Closing ends the cadence.
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
            lead.email and clash.filter(email__iexact=lead.email).exists()
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
    if closing or status == LeadStatus.APPOINTMENT:
        from cadences.services import enrollment_exit

        enrollment_exit(lead=lead, reason=status)
    return lead


def lead_assign(*, lead: Lead, owner: User, by: User) -> Lead:
    """Give a lead (and its open tasks) to another rep."""
    if owner.role != Role.REP and not owner.is_manager:
        raise ValidationError({"owner": ["Leads go to reps or managers."]})
    if lead.owner_id == owner.pk:
        return lead
    previous = lead.owner
    lead.owner = owner
    lead.team = owner.team or lead.team
    lead.save(update_fields=["owner", "team", "updated_at"])
    from cadences.models import Touch

    Touch.objects.open_tasks().filter(lead=lead).update(assigned_to=owner)
    lead_event_add(
        lead=lead,
        kind=LeadEvent.Kind.ASSIGNMENT,
        text=f"Assigned to {owner}" + (f" (was {previous})" if previous else ""),
        actor=by,
    )
    notify(user=owner, lead=lead, text=f"{by} assigned {lead.full_name} to you.")
    return lead


def lead_merge(*, primary: Lead, duplicate: Lead, by: User) -> Lead:
    """Fold `duplicate` into `primary`: its timeline, touches and messages move over, blanks are filled,
    the higher counters win, and the duplicate is deleted (its details kept in the merge entry)."""
    if primary.pk == duplicate.pk:
        raise ValidationError("Choose two different leads to merge.")
    from cadences.models import Enrollment, Touch
    from cadences.services import enrollment_exit
    from messaging.models import Message, OptOut

    with transaction.atomic():
        primary = Lead.objects.select_for_update().get(pk=primary.pk)
        duplicate = Lead.objects.select_for_update().get(pk=duplicate.pk)
        snapshot = {
            f: str(getattr(duplicate, f))
            for f in ("first_name", "last_name", "phone", "email", "company", "status", "interest", "how_heard")
        }
        enrollment_exit(lead=duplicate, reason="merged")
        LeadEvent.objects.filter(lead=duplicate).update(lead=primary)
        Touch.objects.filter(lead=duplicate).update(lead=primary)
        Enrollment.objects.filter(lead=duplicate).update(lead=primary)
        Message.objects.filter(lead=duplicate).update(lead=primary)
        OptOut.objects.filter(lead=duplicate).update(lead=primary)
        Lead.objects.filter(referred_by__isnull=False, pk=duplicate.pk).update(referred_by=None)
        fill = [
            f
            for f in (
                "email",
                "phone",
                "company",
                "last_name",
                "twitter_handle",
                "linkedin_url",
                "interest",
                "how_heard",
            )
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


# --- API keys -----------------------------------------------------------------------------

API_KEY_PREFIX = "lf_"


def api_key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def lead_source_issue_api_key(*, source: LeadSource, raw_key: str | None = None) -> str:
    """Give `source` a new API key and return it: it is shown once and only its hash is stored.

    `raw_key` is for the demo data only, whose key is documented.
    """
    if raw_key is None:
        raw_key = f"{API_KEY_PREFIX}{secrets.token_hex(4)}.{secrets.token_urlsafe(24)}"
    prefix = raw_key.split(".", 1)[0]
    if not raw_key.startswith(API_KEY_PREFIX) or "." not in raw_key or len(prefix) > 16:
        raise ValidationError("API keys look like lf_<prefix>.<secret>.")
    source.api_key_prefix = prefix
    source.api_key_hash = api_key_hash(raw_key)
    source.api_key_revoked_at = None
    source.save(update_fields=["api_key_prefix", "api_key_hash", "api_key_revoked_at"])
    return raw_key


def lead_source_revoke_api_key(*, source: LeadSource) -> None:
    source.api_key_revoked_at = timezone.now()
    source.save(update_fields=["api_key_revoked_at"])


def lead_source_for_api_key(raw_key: str) -> LeadSource | None:
    """The active source whose (unrevoked) key this is, compared in constant time."""
    prefix = (raw_key or "").split(".", 1)[0]
    if not prefix.startswith(API_KEY_PREFIX):
        return None
    source = (
        LeadSource.objects.filter(Q(api_key_revoked_at__isnull=True), api_key_prefix=prefix, active=True)
        .select_related("team")
        .first()
    )
    if source and secrets.compare_digest(source.api_key_hash, api_key_hash(raw_key)):
        return source
    return None
