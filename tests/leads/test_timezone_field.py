"""The timezone field of the lead forms and the user admin: the org region's common zones first, human
labels, every other zone after them, a filter box, and a clear error for a zone nobody knows."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from accounts.timezones import timezone_choices, timezone_label
from leads.forms import LeadIntakeForm
from leads.models import Lead
from tests.browser import login
from tests.factories import LeadFactory, UserFactory

WINTER = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)
SUMMER = dt.datetime(2026, 7, 15, 12, 0, tzinfo=dt.UTC)
US_COMMON = [
    ("America/New_York", "Eastern — New York (UTC−05:00)"),
    ("America/Chicago", "Central — Chicago (UTC−06:00)"),
    ("America/Denver", "Mountain — Denver (UTC−07:00)"),
    ("America/Phoenix", "Arizona — Phoenix (UTC−07:00)"),
    ("America/Los_Angeles", "Pacific — Los Angeles (UTC−08:00)"),
    ("America/Anchorage", "Alaska — Anchorage (UTC−09:00)"),
    ("Pacific/Honolulu", "Hawaii — Honolulu (UTC−10:00)"),
]
INTAKE = reverse("leads:intake")
GOOD = {"first_name": "Pat", "phone": "(212) 555-0142", "how_heard": "Radio", "interest": "A quote"}


def groups(choices):
    return [(label, zones) for label, zones in choices if isinstance(zones, list)]


def test_us_common_zones_come_first_with_human_labels(rep, settings):
    settings.PHONE_DEFAULT_REGION = "US"
    with time_machine.travel(WINTER, tick=False):
        choices = list(LeadIntakeForm(user=rep).fields["timezone"].choices)
    assert choices[0] == ("", "From the phone number")
    (common_label, common), (others_label, others) = groups(choices)
    assert common_label == "Common in United States" and common == US_COMMON
    assert others_label == "All other zones"
    others = dict(others)
    assert others["Europe/London"] == "London, Britain (UK) (UTC+00:00)"
    assert others["Asia/Kolkata"] == "Kolkata, India (UTC+05:30)"
    assert others["America/Indiana/Knox"] == "Knox (Indiana), United States (UTC−06:00)"
    assert "America/New_York" not in others and len(others) > 300
    assert not [zone for zone in others if zone.startswith(("Etc/", "SystemV/", "US/"))]


def test_labels_show_the_offset_in_force(settings):
    settings.PHONE_DEFAULT_REGION = "US"
    with time_machine.travel(SUMMER, tick=False):
        assert timezone_choices()[0][1][0] == ("America/New_York", "Eastern — New York (UTC−04:00)")
        assert timezone_label("America/Phoenix", name="Arizona") == "Arizona — Phoenix (UTC−07:00)"


@pytest.mark.parametrize(
    "region, first, heading",
    [
        ("AU", ("Australia/Sydney", "New South Wales — Sydney (UTC+11:00)"), "Common in Australia"),
        ("CA", ("America/Toronto", "Eastern — Toronto (UTC−05:00)"), "Common in Canada"),
        # No hand-made list: the country's zones from the tz database, named after the country.
        ("DE", ("Europe/Berlin", "Germany — Berlin (UTC+01:00)"), "Common in Germany"),
    ],
)
def test_the_orgs_region_decides_what_comes_first(rep, settings, region, first, heading):
    settings.PHONE_DEFAULT_REGION = region
    with time_machine.travel(WINTER, tick=False):
        [(label, common), _] = groups(LeadIntakeForm(user=rep).fields["timezone"].choices)
    assert label == heading and common[0] == first


def test_the_intake_page_shows_the_groups_and_the_filter_script(client_for, rep, settings):
    settings.PHONE_DEFAULT_REGION = "US"
    html = client_for(rep).get(INTAKE).content.decode()
    select = re.search(r'<select name="timezone".*?</select>', html, re.S).group(0)
    assert "data-zone-filter" in select
    assert select.index('<optgroup label="Common in United States">') < select.index(
        '<optgroup label="All other zones">'
    )
    assert '<option value="America/Chicago">Central — Chicago (UTC' in select
    assert '<script src="/static/js/timezone-filter.js"></script>' in html


def test_a_zone_from_the_list_is_saved_confirmed(client_for, rep):
    response = client_for(rep).post(INTAKE, {**GOOD, "timezone": "America/Phoenix"})
    assert response.status_code == 302
    lead = Lead.objects.get()
    assert lead.timezone == "America/Phoenix" and lead.timezone_confirmed


@pytest.mark.parametrize("zone", ["Mars/Olympus", "America", "eastern", "US/Eastern"])
def test_an_unknown_zone_is_a_clear_error_and_saves_nothing(client_for, rep, zone):
    response = client_for(rep).post(INTAKE, {**GOOD, "timezone": zone})
    assert response.status_code == 200 and not Lead.objects.exists()
    [error] = response.context["form"].errors["timezone"]
    assert error == f"Unknown timezone “{zone}”. Pick one from the list: type a city or a region to find it."
    assert "Select a valid choice" not in response.content.decode()


def test_the_edit_form_keeps_a_zone_the_list_lacks(client_for, rep):
    lead = LeadFactory(owner=rep, timezone="US/Eastern", timezone_confirmed=True)
    form = client_for(rep).get(reverse("leads:edit", args=[lead.pk])).context["form"]
    choices = list(form.fields["timezone"].choices)
    assert choices[:2] == [("", "From the phone number"), ("US/Eastern", "US/Eastern")]
    assert form.initial["timezone"] == "US/Eastern" and form.fields["timezone"].valid_value("US/Eastern")


def test_the_edit_form_refuses_an_unknown_zone(client_for, rep):
    lead = LeadFactory(owner=rep, first_name="Jane", phone="+14155550100", timezone="America/Chicago")
    data = {"first_name": "Jane", "phone": "+14155550100", "timezone": "Nowhere/Land"}
    response = client_for(rep).post(reverse("leads:edit", args=[lead.pk]), data)
    assert response.context["form"].errors["timezone"][0].startswith("Unknown timezone “Nowhere/Land”.")
    lead.refresh_from_db()
    assert lead.timezone == "America/Chicago"


def test_the_user_admin_picks_the_zone_from_the_list(client, rep):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = reverse("admin:accounts_user_change", args=[rep.pk])
    html = client.get(url).content.decode()
    assert '<optgroup label="Common in United States">' in html and "timezone-filter.js" in html
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(timezone="Mars/Olympus", groups=[], user_permissions=[], team=rep.team_id)
    data.update(date_joined_0="2026-01-01", date_joined_1="00:00:00", last_login_0="", last_login_1="")
    response = client.post(url, data)
    assert response.status_code == 200 and "Unknown timezone “Mars/Olympus”" in response.content.decode()
    data["timezone"] = "America/Denver"
    assert client.post(url, data).status_code == 302
    rep.refresh_from_db()
    assert rep.timezone == "America/Denver"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_typing_in_the_filter_narrows_the_list_and_enter_picks(browser, live_server, rep):
    page = login(browser, live_server, rep)
    page.goto(live_server.url + INTAKE)
    box = page.locator("input[aria-label='Find a timezone']")
    box.fill("honolulu")
    values = page.eval_on_selector_all("#id_timezone option", "options => options.map(o => o.value)")
    assert values == ["", "Pacific/Honolulu"]
    box.fill("india +05:30")  # every word must match
    assert page.eval_on_selector_all("#id_timezone option", "o => o.map(x => x.value)") == ["", "Asia/Kolkata"]
    box.press("Enter")
    assert page.input_value("#id_timezone") == "Asia/Kolkata"
    assert page.url.endswith(INTAKE)  # Enter picked a zone; it did not send the form
    box.fill("no such place")
    assert page.eval_on_selector_all("#id_timezone option", "o => o.map(x => x.textContent)")[-1] == "No zone matches"
    box.fill("")
    assert page.locator("#id_timezone option").count() > 300
    assert page.input_value("#id_timezone") == "Asia/Kolkata"
