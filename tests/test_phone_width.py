"""Every main page on a 390 px phone: nothing scrolls sideways (`scrollWidth <= 390`), on the demo data.

Each page is opened as the demo user who uses it (rep, manager, admin) at a 390 × 844 viewport,
after its htmx requests settled; every page too wide is listed at once, with its widest elements.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from cadences.models import Cadence
from leads.management.commands.seed_demo import DEMO_PASSWORD
from leads.models import ImportJob, Lead, LeadSource

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 390

# The elements sticking out past the viewport, to say what to fix.
WIDEST = """(width) => [...document.querySelectorAll("body *")]
  .filter((el) => el.getBoundingClientRect().right > width + 0.5)
  .slice(0, 5)
  .map((el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${[...el.classList].join(".")}`
    + ` right=${Math.round(el.getBoundingClientRect().right)}`)"""


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=StringIO())
    rep = User.objects.get(username="rep")
    job = ImportJob.objects.create(
        created_by=User.objects.get(username="manager"),
        source=LeadSource.objects.get(name="Trade show"),
        filename="spring-trade-show-badge-scans-2026.csv",
        content="first_name,phone\nDana,+12122649071\nBad,nope\n",
        status=ImportJob.Status.DONE,
        total_rows=2,
        processed_rows=2,
        created_count=1,
        error_count=1,
        finished_at=timezone.now(),
        errors=[{"row": 3, "reason": "phone: 'nope' is not a phone number"}],
    )
    return {
        "job": job,
        "rep": rep,
        "lead": Lead.objects.open().filter(owner=rep).order_by("-attempt_count", "pk").first(),
        "cadence": Cadence.objects.filter(steps__isnull=False).order_by("pk").first(),
    }


def _pages(demo):
    lead, cadence = demo["lead"].pk, demo["cadence"].pk
    return {
        "rep": [
            reverse("today:index"),
            reverse("today:call_mode"),
            reverse("leads:list"),
            reverse("leads:detail", args=[lead]),
            reverse("leads:compose", args=[lead, "email"]),
            reverse("leads:compose", args=[lead, "sms"]),
            reverse("leads:intake"),
            reverse("messaging:outbox"),
            reverse("notifications"),
            reverse("reports:index"),
            reverse("reports:friday"),
            reverse("reports:compliance"),
            reverse("reports:speed"),
            reverse("reports:coverage"),
            reverse("reports:converts"),
        ],
        "manager": [
            reverse("today:team"),
            reverse("today:team_rep", args=[demo["rep"].pk]),
            reverse("today:call_mode") + f"?rep={demo['rep'].pk}",
            reverse("leads:import_new"),
            reverse("leads:import_detail", args=[demo["job"].pk]),
            reverse("leads:list"),
            reverse("reports:friday"),
            reverse("snippets"),
            reverse("snippet_create"),
        ],
        "admin": [
            reverse("cadences:list"),
            reverse("cadences:detail", args=[cadence]),
            reverse("cadences:edit", args=[cadence]),
            reverse("cadences:create"),
        ],
    }


def _login(browser, live_server, username):
    context = browser.new_context(viewport={"width": WIDTH, "height": 844}, device_scale_factor=1, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return context, page


def test_no_main_page_scrolls_sideways_at_390_px(browser, live_server, demo):
    too_wide = []
    for username, urls in _pages(demo).items():
        context, page = _login(browser, live_server, username)
        for url in urls:
            response = page.goto(live_server.url + url)
            assert response.status == 200, (username, url, response.status)
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > WIDTH:
                too_wide.append(f"{username} {url}: scrollWidth {width} ({page.evaluate(WIDEST, WIDTH)})")
        context.close()
    assert not too_wide, "Pages wider than 390 px:\n" + "\n".join(too_wide)
