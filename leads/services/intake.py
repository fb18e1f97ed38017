"""Capturing an inquiry on the lead side: validation, duplicate detection, owner, first timeline entry.

The whole reaction to a new inquiry (cadence, instant touches, rep alert) is reactions.intake.lead_intake,
which calls `lead_capture` first.
"""

import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role, Team, User
from accounts.services import notify
from leads.models import (
    Contact,
    Lead,
    LeadEvent,
    LeadSource,
)
from leads.phones import phone_normalize, timezone_for_phone, timezones_for_phone
from leads.text import multi_line, single_line
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
# Intake fields that keep their line breaks (leads/text.py); every other one is a single line.
FREE_TEXT_FIELDS = frozenset({"interest"})


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
    """Validate and normalise intake fields; raise ValidationError({field: [messages]}) on any bad value.

    Every intake path and every edit comes through here, so this is where the input rule of
    leads/text.py is applied: one-line fields lose control characters, escape sequences and line
    breaks (they end up in email subjects); the interest keeps its lines. An email address is only
    trimmed: one with a control character in it is refused, not rewritten into another address.
    """
    given = {
        "first_name": first_name,
        "last_name": last_name,
        "company": company,
        "how_heard": how_heard,
        "interest": interest,
        "twitter_handle": twitter_handle,
        "linkedin_url": linkedin_url,
        "email": email,
    }
    data = {field: (multi_line if field in FREE_TEXT_FIELDS else single_line)(value) for field, value in given.items()}
    data["twitter_handle"] = data["twitter_handle"].lstrip("@")
    data["email"] = (email or "").strip()
    errors: dict[str, list[str]] = {}
    for field, limit in FIELD_LIMITS.items():
        if len(data[field]) > limit:
            errors.setdefault(field, []).append(f"Ensure this value has at most {limit} characters.")
        if "\x00" in (given[field] or ""):
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
    # A zone given here (API/CSV `timezone`, a rep on the intake or edit form) is the lead's word or
    # the rep's: confirmed. Else the phone's zone is a guess; the candidates bound quiet hours.
    data["timezone"] = tz or timezone_for_phone(data["phone"]) or settings.TIME_ZONE
    data["timezone_candidates"] = timezones_for_phone(data["phone"])
    data["timezone_confirmed"] = bool(tz)
    return data


def lead_find_open_duplicate(*, phone: str, email: str) -> Lead | None:
    """The open lead with the same phone or email (case-insensitive), phone first."""
    if phone:
        lead = Lead.objects.open().filter(phone=phone).first()
        if lead:
            return lead
    if email:
        return Lead.objects.open().with_email(email).first()
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


def _inquiry_payload(data: dict, *, source: LeadSource | None, via: str) -> dict:
    return {
        "via": via,
        "source": source.name if source else "",
        **{k: data[k] for k in ("first_name", "last_name", "phone", "email", "company", "how_heard", "interest")},
    }


# How an inquiry came in (lead_capture's `via`), as words that follow "New lead", "Inquiry" or
# "got in touch again": the timeline and notifications read as sentences, never "(api)". The one
# place that spells a `via` out; an unknown one is left out of the sentence rather than shown raw.
VIA_PHRASES = {
    "api": "from the website API",
    "phone": "by phone",
    "form": "from the lead form",
    "csv": "from a CSV import",
    "import": "from a CSV import",
    "referral": "from a referral",
    "sms": "by text message",
}


def via_phrase(via: str) -> str:
    """The words for a `via` ("by phone", "from the website API"); "" for a way in not named here."""
    return VIA_PHRASES.get(via, "")


def _sentence(*parts: str) -> str:
    return " ".join(part for part in parts if part)


def _inquiry_text(data: dict, *, source: LeadSource | None, via: str) -> str:
    """The inquiry's timeline line: "Website inquiry from the website API: Pricing for 20 seats"."""
    text = _sentence(f"{source.name} inquiry" if source else "Inquiry", via_phrase(via))
    if data.get("interest"):
        text += f": {data['interest']}"
    return text


def lead_capture(
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
    """Create the lead, or add the inquiry to the open lead with the same phone/email.

    A new lead gets an owner (round-robin within the source's team unless given), its first
    timeline entry and a notification for the owner. Two concurrent intakes of the same phone
    meet the partial unique constraint; the loser lands on the winner's lead.
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
        timezone_candidates=data["timezone_candidates"],
        timezone_confirmed=data["timezone_confirmed"],
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
    notify(user=owner, lead=lead, text=_sentence("New lead", via_phrase(via)) + f": {lead.full_name}, assigned to you.")
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
    # An unconfirmed zone is a guess, not the rep's: the phone now learnt (an email-only lead) brings
    # its candidate zones, and a zone the lead states now confirms it.
    if not lead.timezone_confirmed:
        if "phone" in changed:
            lead.timezone, lead.timezone_candidates = data["timezone"], data["timezone_candidates"]
            changed += ["timezone", "timezone_candidates"]
        if data["timezone_confirmed"]:
            lead.timezone, lead.timezone_confirmed = data["timezone"], True
            changed += ["timezone", "timezone_confirmed"]
    if changed:
        lead.save(update_fields=list(dict.fromkeys(changed)) + ["updated_at"])
    notify(user=lead.owner, lead=lead, text=_sentence(f"{lead.full_name} got in touch again", via_phrase(via)) + ".")
