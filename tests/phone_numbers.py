"""Every kind of phone number phonenumbers knows, for property tests over timezones.

- every supported region's example number of every number type, and every non-geographic
  entity's (+800, +882 …);
- for every prefix of phonenumbers' timezone table that lists several zones, a valid number whose
  zones come from that prefix. Some prefixes are never used: the valid numbers under them are of a
  type phonenumbers looks up by country code instead (UK mobiles under +44 7, Russian toll-free
  under +7 800); those are listed (`shadowed`) with the valid numbers found under them.

Built once per test session, deterministically (a fixed random seed fills the digits after a prefix).
"""

import random
from dataclasses import dataclass, field
from functools import cache

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from phonenumbers import timezone as phone_timezone
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

NUMBER_TYPES = [value for name, value in vars(PhoneNumberType).items() if name.isupper() and isinstance(value, int)]
# Random fills tried per possible number length after a prefix no example number fits.
TRIES = 400


@dataclass
class Corpus:
    examples: list[str]
    # prefix of the timezone table (E.164 digits) -> a valid number whose zones it decides
    by_prefix: dict[str, str]
    # prefix -> the valid numbers found under it, all of whose zones another prefix decides
    shadowed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def numbers(self) -> list[str]:
        return sorted(set(self.examples) | set(self.by_prefix.values()))


def zones_of(e164: str) -> tuple[str, ...]:
    """phonenumbers' own answer: the oracle the product's candidates are checked against."""
    zones = phone_timezone.time_zones_for_number(phonenumbers.parse(e164))
    return tuple(sorted(z for z in zones if z != phone_timezone.UNKNOWN_TIMEZONE))


def deciding_prefix(number: phonenumbers.PhoneNumber) -> str | None:
    """The key of TIMEZONE_DATA that time_zones_for_number uses for `number` (None: unknown)."""
    ntype = phonenumbers.number_type(number)
    if ntype == PhoneNumberType.UNKNOWN:
        return None
    digits = phonenumbers.format_number(number, PhoneNumberFormat.E164)[1:]
    if not phonenumbers.is_number_type_geographical(ntype, number.country_code):
        digits = str(number.country_code)
    for length in range(min(len(digits), TIMEZONE_LONGEST_PREFIX), 0, -1):
        if digits[:length] in TIMEZONE_DATA:
            return digits[:length]
    return None


def multi_zone_prefixes() -> dict[str, tuple[str, ...]]:
    return {prefix: zones for prefix, zones in TIMEZONE_DATA.items() if len(zones) > 1}


def _e164(number) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _country_code_of(prefix: str) -> str:
    for length in (1, 2, 3):
        if int(prefix[:length]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return prefix[:length]
    raise ValueError(prefix)


def _lengths(country_code: str) -> list[int]:
    lengths = set()
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[int(country_code)]:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(int(country_code), region)
        if metadata and metadata.general_desc and metadata.general_desc.possible_length:
            lengths.update(metadata.general_desc.possible_length)
    return sorted(lengths)


@cache
def corpus() -> Corpus:
    examples = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for ntype in NUMBER_TYPES:
            number = phonenumbers.example_number_for_type(region, ntype)
            if number is not None:
                examples.add(_e164(number))
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            examples.add(_e164(number))

    by_country: dict[str, list[str]] = {}
    for e164 in examples:
        number = phonenumbers.parse(e164)
        by_country.setdefault(str(number.country_code), []).append(phonenumbers.national_significant_number(number))

    rng = random.Random(15)
    by_prefix, shadowed = {}, {}
    for prefix in multi_zone_prefixes():
        country = _country_code_of(prefix)
        rest = prefix[len(country) :]
        # Realistic digits first (the prefix, then the tail of an example number), then random ones.
        tails = [nsn[len(rest) :] for nsn in by_country.get(country, []) if len(nsn) > len(rest)]
        for length in _lengths(country):
            if length > len(rest):
                tails += ["".join(rng.choice("0123456789") for _ in range(length - len(rest))) for _ in range(TRIES)]
        under = []
        for tail in tails:
            number = phonenumbers.parse(f"+{country}{rest}{tail}")
            if not phonenumbers.is_valid_number(number):
                continue
            if deciding_prefix(number) == prefix:
                by_prefix[prefix] = _e164(number)
                break
            under.append(_e164(number))
        if prefix not in by_prefix:
            shadowed[prefix] = under[:20]
    return Corpus(examples=sorted(examples), by_prefix=by_prefix, shadowed=shadowed)
