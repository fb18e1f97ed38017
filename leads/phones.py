"""Phone numbers: normalisation to E.164 and the timezone a number belongs to (phonenumbers)."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from phonenumbers import timezone as phone_timezone


def phone_normalize(raw: str, *, region: str | None = None) -> str:
    """Return `raw` as E.164 ("+14155550123"), or "" for blank input.

    Raises ValidationError with a message a person can act on when the number is not valid.
    """
    raw = (raw or "").strip()
    if not raw:
        return ""
    if len(raw) > 40:
        raise ValidationError("Enter a valid phone number (too long).", code="invalid_phone")
    try:
        number = phonenumbers.parse(raw, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError("Enter a valid phone number, e.g. +1 415 555 0123.", code="invalid_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            "This phone number does not exist. Check the digits and the country code.", code="invalid_phone"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    if not e164:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def timezone_for_phone(e164: str) -> str | None:
    """The IANA timezone of a number when its prefix pins one down, else None.

    phonenumbers lists every zone a prefix may be in; a US area code usually gives one.
    When it gives several, the organisation's zone wins if listed, else the first.
    """
    if not e164:
        return None
    try:
        zones = phone_timezone.time_zones_for_number(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return None
    zones = [z for z in zones if z != phone_timezone.UNKNOWN_TIMEZONE]
    if not zones:
        return None
    if settings.TIME_ZONE in zones:
        return settings.TIME_ZONE
    return zones[0]
