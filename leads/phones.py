"""Phone numbers: normalisation to E.164 and the timezone a number belongs to (phonenumbers)."""

import functools

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from phonenumbers import timezone as phone_timezone
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX


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
    """How people read a number: national format in the organisation's region ("(415) 249-8831"),
    international elsewhere ("+44 20 7946 0958"). Links use the E.164 form (`tel:+14152498831`)."""
    return _display(e164, settings.PHONE_DEFAULT_REGION) if e164 else ""


@functools.lru_cache(maxsize=4096)
def _display(e164: str, home_region: str) -> str:
    # Parsing is the costly part of a list page's numbers, and a number reads the same every time.
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    home = phonenumbers.region_code_for_number(number) == home_region
    fmt = phonenumbers.PhoneNumberFormat.NATIONAL if home else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, fmt)


def _parse(e164: str) -> phonenumbers.PhoneNumber | None:
    if not e164:
        return None
    try:
        return phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return None


def timezones_for_phone(e164: str) -> list[str]:
    """Every IANA zone the number may be in, as phonenumbers' prefix tables say (sorted; [] if unknown).

    A US area code usually gives one zone; an Australian or Russian mobile, a toll-free +1 800
    number or Newfoundland's 709 give several, and nothing in the number says which.
    """
    number = _parse(e164)
    if number is None:
        return []
    zones = phone_timezone.time_zones_for_number(number)
    return sorted(z for z in zones if z != phone_timezone.UNKNOWN_TIMEZONE)


def timezone_for_phone(e164: str) -> str | None:
    """The zone to show and to count a lead's days in when nobody has said which: a guess.

    The organisation's zone when the number may be in it, else the first candidate; None when
    phonenumbers knows no zone. Quiet hours never rely on the guess alone: a lead whose number
    may be in several zones is texted and called only inside the window in all of them
    (Lead.timezone_uncertain, cadences.scheduling).
    """
    zones = timezones_for_phone(e164)
    if not zones:
        return None
    if settings.TIME_ZONE in zones:
        return settings.TIME_ZONE
    return zones[0]


def timezone_prefix_for_phone(e164: str) -> str:
    """The part of the number that decided its zones, for people: "+61" (an Australian mobile), "+1 709".

    Mirrors phonenumbers.timezone: numbers of a non-geographic type (mobiles in many countries,
    toll-free) are looked up by country code, the others by their longest listed prefix.
    """
    number = _parse(e164)
    if number is None:
        return ""
    country = str(number.country_code)
    digits = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
    if not phonenumbers.is_number_type_geographical(phonenumbers.number_type(number), number.country_code):
        digits = country
    for length in range(min(len(digits), TIMEZONE_LONGEST_PREFIX), 0, -1):
        if digits[:length] in TIMEZONE_DATA:
            prefix = digits[:length]
            rest = prefix[len(country) :]
            return f"+{country} {rest}" if rest else f"+{country}"
    return f"+{country}"
