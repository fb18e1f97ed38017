"""The timezones a person picks from (a lead's on the intake and edit forms, a user's in the admin):
the common zones of the organisation's region first, then every other, each with a label a person
reads ("Eastern — New York (UTC−05:00)") rather than 600 raw IANA names.

Where the names come from: the tz database's zone.tab (every canonical zone with its country) and
iso3166.tab (country names), from the pinned tzdata package or else the system's zoneinfo folder.
A region's common zones are a short hand-made list (COMMON_ZONES) where the database has many
zones for one country (the US has 29, most of them counties of Indiana and Kentucky that no rep
looks for); for other regions they are the country's own zone.tab entries.

Offsets in the labels are the ones in force now (daylight saving included), so the labels are
rebuilt once a day. The JavaScript that filters the list as the user types is static/js/timezone-filter.js.
"""

import datetime as dt
import functools
import importlib.resources
import zoneinfo
from pathlib import Path

from django.conf import settings
from django.utils import timezone

# (zone, what people call it). The first zone of each region is the usual default.
COMMON_ZONES = {
    "US": [
        ("America/New_York", "Eastern"),
        ("America/Chicago", "Central"),
        ("America/Denver", "Mountain"),
        ("America/Phoenix", "Arizona"),
        ("America/Los_Angeles", "Pacific"),
        ("America/Anchorage", "Alaska"),
        ("Pacific/Honolulu", "Hawaii"),
    ],
    "CA": [
        ("America/Toronto", "Eastern"),
        ("America/Winnipeg", "Central"),
        ("America/Regina", "Saskatchewan"),
        ("America/Edmonton", "Mountain"),
        ("America/Vancouver", "Pacific"),
        ("America/Halifax", "Atlantic"),
        ("America/St_Johns", "Newfoundland"),
    ],
    "AU": [
        ("Australia/Sydney", "New South Wales"),
        ("Australia/Melbourne", "Victoria"),
        ("Australia/Brisbane", "Queensland"),
        ("Australia/Adelaide", "South Australia"),
        ("Australia/Darwin", "Northern Territory"),
        ("Australia/Perth", "Western Australia"),
        ("Australia/Hobart", "Tasmania"),
    ],
    "MX": [
        ("America/Mexico_City", "Central"),
        ("America/Cancun", "Southeast"),
        ("America/Mazatlan", "Pacific"),
        ("America/Tijuana", "Northwest"),
    ],
    "BR": [
        ("America/Sao_Paulo", "Brasília"),
        ("America/Manaus", "Amazon"),
        ("America/Noronha", "Fernando de Noronha"),
        ("America/Rio_Branco", "Acre"),
    ],
}


@functools.cache
def _tz_table(name: str) -> str:
    """A table file of the tz database: tzdata's copy, else the first system zoneinfo folder that has it."""
    try:
        return importlib.resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        pass
    for folder in zoneinfo.TZPATH:
        path = Path(folder) / name
        if path.exists():
            return path.read_text(encoding="utf-8")
    return ""


def _rows(name: str) -> list[list[str]]:
    return [line.split("\t") for line in _tz_table(name).splitlines() if line and not line.startswith("#")]


@functools.cache
def zone_countries() -> dict[str, str]:
    """Each canonical zone that this Python can load -> its ISO country code (zone.tab)."""
    available = zoneinfo.available_timezones()
    return {row[2]: row[0] for row in _rows("zone.tab") if len(row) >= 3 and row[2] in available}


@functools.cache
def country_names() -> dict[str, str]:
    return {row[0]: row[1] for row in _rows("iso3166.tab") if len(row) >= 2}


def zone_city(zone: str) -> str:
    """America/Argentina/Buenos_Aires -> "Buenos Aires"; America/Indiana/Knox -> "Knox (Indiana)"."""
    parts = [part.replace("_", " ") for part in zone.split("/")[1:]] or [zone]
    city = parts[-1]
    return f"{city} ({', '.join(parts[:-1])})" if len(parts) > 1 else city


def utc_offset(zone: str, at: dt.datetime) -> str:
    """The zone's offset at `at`: "UTC−05:00" (with a real minus sign), "UTC+05:30", "UTC+00:00"."""
    minutes = int(at.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset().total_seconds() // 60)
    sign = "+" if minutes >= 0 else "\u2212"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


def common_zones(region: str) -> list[tuple[str, str]]:
    """(zone, name) for the region: COMMON_ZONES, else the country's zones in zone.tab's order."""
    available = zoneinfo.available_timezones()
    if region in COMMON_ZONES:
        return [(zone, name) for zone, name in COMMON_ZONES[region] if zone in available]
    country = country_names().get(region, region)
    return [(zone, country) for zone, code in zone_countries().items() if code == region]


def timezone_label(zone: str, *, at: dt.datetime | None = None, name: str = "") -> str:
    """With a name: "Eastern — New York (UTC−05:00)"; without: "London, Britain (UK) (UTC+00:00)"."""
    at = at or timezone.now()
    if name:
        return f"{name} — {zone_city(zone)} ({utc_offset(zone, at)})"
    country = country_names().get(zone_countries().get(zone, ""), "")
    where = f"{zone_city(zone)}, {country}" if country else zone_city(zone)
    return f"{where} ({utc_offset(zone, at)})"


def timezone_choices(region: str | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped choices for a form's select: the region's common zones, then all others by label."""
    region = (region or settings.PHONE_DEFAULT_REGION).upper()
    return _choices(region, timezone.localdate(timezone.now(), dt.UTC))


@functools.lru_cache(maxsize=8)
def _choices(region: str, day: dt.date) -> list[tuple[str, list[tuple[str, str]]]]:
    at = timezone.now()
    common = common_zones(region)
    first = {zone for zone, _ in common}
    others = sorted(
        ((zone, timezone_label(zone, at=at)) for zone in zone_countries() if zone not in first),
        key=lambda choice: choice[1].casefold(),
    )
    groups = []
    if common:
        country = country_names().get(region, region)
        groups.append(
            (f"Common in {country}", [(zone, timezone_label(zone, at=at, name=name)) for zone, name in common])
        )
    groups.append(("All other zones" if common else "All zones", others))
    return groups


def timezone_values(choices) -> set[str]:
    """The zone names in (possibly grouped) choices."""
    values = set()
    for value, label in choices:
        if isinstance(label, list | tuple):
            values.update(v for v, _ in label)
        else:
            values.add(value)
    return values
