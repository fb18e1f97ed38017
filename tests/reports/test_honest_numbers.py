"""Honest numbers: rates with their sample size, "few data" below 5 leads, money without false
precision in the organisation's currency, filters that show the period a report covers."""

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
import time_machine
from django.template import Context, Template

from leads.models import LeadStatus
from reports.money import money_display
from tests import factories
from tests.reports.conftest import at, make_lead, worked
from tests.test_settings import SETUP, run


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (Decimal("333.333"), "USD", "$333"),
        (Decimal("1000") / 3, "USD", "$333"),
        (Decimal("99.5"), "USD", "$99.50"),
        (Decimal("25.00"), "USD", "$25"),
        (Decimal("12.5"), "USD", "$12.50"),
        (Decimal("1234.5"), "USD", "$1,235"),
        (Decimal("0"), "USD", "$0"),
        (Decimal("-150.4"), "USD", "-$150"),
        (Decimal("333.3"), "EUR", "€333"),
        (Decimal("1234"), "SEK", "SEK 1,234"),
        (None, "USD", "—"),
    ],
)
def test_money_has_no_false_precision(amount, currency, text):
    assert money_display(amount, currency) == text


def _render(source: str, **context) -> str:
    return Template("{% load report_format %}" + source).render(Context(context))


def test_a_rate_shows_its_sample_size_and_few_data_below_five():
    assert _render("{% share 2 5 %}") == '<span data-n="5">40% of 5</span>'
    few = _render("{% share 1 3 %}")
    assert "33% of 3" in few and 'data-few="1"' in few and "few data" in few
    assert "—" in _render("{% share 0 0 %}")
    assert _render("{% share 1 3 plain=True %}") == "33% of 3, few data"
    assert _render("{% share 6 14 plain=True counts=True %}") == "6 of 14 (43%)"


def test_a_median_shows_its_sample_size_and_few_data_below_five():
    assert "few data · n=4" in _render("{% stat value 4 %}", value=dt.timedelta(minutes=3))
    assert 'data-few="1"' not in _render("{% stat value 5 %}", value=dt.timedelta(minutes=3))
    assert _render("{% stat value 2 plain=True %}", value=dt.timedelta(seconds=8)) == "8 s (n=2, few data)"
    assert _render("{% stat value 2 %}", value=None) == "—"


@pytest.fixture
def three_wins(rep):
    """$1,000 of leads, 3 of them won: the cost per won deal is $333 on few data."""
    source = factories.LeadSourceFactory(name="Fair", cost_per_lead=Decimal("100.00"))
    for i in range(10):
        won = i < 3
        lead = make_lead(
            rep,
            f"2026-06-01 {9 + i:02d}:00",
            source=source,
            status=LeadStatus.WON if won else LeadStatus.WORKING,
            closed="2026-06-05 09:00" if won else None,
        )
        if i < 6:
            worked(lead, f"2026-06-01 {9 + i:02d}:30")
    return source


def test_converts_money_and_few_data(client_for, manager, three_wins):
    with time_machine.travel(at("2026-06-12 12:00"), tick=False):
        response = client_for(manager).get("/reports/converts/")
    html = response.content.decode()
    cost = re.search(r'id="cost-per-won"( data-few="1")?>([^<]*)<', html)
    assert cost.groups() == (' data-few="1"', "$333")  # 3 wins: few data
    assert "$1,000" in html and "$400" in html  # spend; 4 leads never followed up
    assert "$333.33" not in html and "$1,000.00" not in html
    assert "30% of 10" in html  # won / leads
    chart = json.loads(re.search(r'id="converts-chart-data"[^>]*>(.*?)</script>', html).group(1))
    # Buckets "< 5 min" 0 leads, "< 1 hour" 6, "< 1 day" 0, "Later" 0, "Never" 4: only one has 5 or more.
    assert chart["few"] == [True, False, True, True, True]


def test_the_currency_is_the_organisations(client_for, manager, three_wins, settings):
    settings.ORGANIZATION_CURRENCY = "EUR"
    with time_machine.travel(at("2026-06-12 12:00"), tick=False):
        html = client_for(manager).get("/reports/converts/").content.decode()
    assert "€333" in html and "$" not in re.sub(r"<script.*?</script>", "", html, flags=re.S)


def test_a_malformed_currency_stops_the_start(tmp_path):
    result = run(SETUP, tmp_path, ORGANIZATION_CURRENCY="dollars")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "ORGANIZATION_CURRENCY" in result.stderr


def _value(html: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    found = re.search(r'value="([^"]*)"', match.group(0)) if match else None
    return found.group(1) if found else None


def test_the_week_picker_shows_the_week_shown(client_for, rep):
    with time_machine.travel(at("2026-06-05 16:00"), tick=False):
        html = client_for(rep).get("/reports/friday/").content.decode()
    assert _value(html, "week") == "2026-06-01"


@pytest.mark.parametrize("url", ["/reports/compliance/", "/reports/coverage/", "/reports/converts/"])
def test_a_range_shows_both_its_ends_from_the_first_arrival_to_today(client_for, rep, url):
    make_lead(rep, "2026-05-12 09:00")
    make_lead(rep, "2026-06-02 09:00")
    client = client_for(rep)
    with time_machine.travel(at("2026-06-12 16:00"), tick=False):
        html = client.get(url).content.decode()
        assert (_value(html, "date_from"), _value(html, "date_to")) == ("2026-05-12", "2026-06-12")
        html = client.get(url, {"date_from": "2026-06-01"}).content.decode()
        assert (_value(html, "date_from"), _value(html, "date_to")) == ("2026-06-01", "2026-06-12")
        html = client.get(url, {"date_to": "2026-05-20"}).content.decode()
        assert (_value(html, "date_from"), _value(html, "date_to")) == ("2026-05-12", "2026-05-20")
    with time_machine.travel(at("2026-06-12 16:00"), tick=False):  # nothing yet: both ends are today
        empty = client_for(factories.UserFactory(username="newbie")).get(url).content.decode()
    assert (_value(empty, "date_from"), _value(empty, "date_to")) == ("2026-06-12", "2026-06-12")


def test_the_speed_range_shows_its_twelve_weeks(client_for, rep):
    with time_machine.travel(at("2026-06-12 16:00"), tick=False):
        html = client_for(rep).get("/reports/speed/").content.decode()
    assert (_value(html, "date_from"), _value(html, "date_to")) == ("2026-03-23", "2026-06-12")


def test_the_friday_chart_greys_reps_with_few_leads(client_for, manager, rep, teammate):
    for i in range(5):
        make_lead(rep, f"2026-06-01 0{i + 1}:00")
    make_lead(teammate, "2026-06-01 09:00")
    with time_machine.travel(at("2026-06-05 16:00"), tick=False):
        html = client_for(manager).get("/reports/friday/", {"week": "2026-06-01"}).content.decode()
    chart = json.loads(re.search(r'id="friday-chart-data"[^>]*>(.*?)</script>', html).group(1))
    few = dict(zip(chart["labels"], chart["few"], strict=True))
    assert few[str(rep)] is False and few[str(teammate)] is True
    assert dict(zip(chart["labels"], chart["n"], strict=True))[str(rep)] == 5
