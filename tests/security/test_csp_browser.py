"""Every main page under the Content-Security-Policy in Chromium: no violation, no script error, and
what the moved scripts do still happens (charts drawn, progress bars filled, Swagger UI started)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from cadences.models import Cadence
from leads.models import ImportJob
from messaging.unsubscribe import unsubscribe_token
from tests import factories
from tests.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Injected before any page script (Playwright's init scripts are not subject to the page's policy).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def site(rep, manager, web_source):
    lead = factories.LeadFactory(owner=rep, team=rep.team, source=web_source, attempt_count=2)
    factories.TouchFactory(lead=lead, title=f"Call {lead.full_name}")
    factories.LeadEventFactory(lead=lead, text="Asked about pricing")
    job = ImportJob.objects.create(
        created_by=manager,
        source=web_source,
        filename="north.csv",
        content="first_name,phone\nBad,nope\n",
        status=ImportJob.Status.DONE,
        total_rows=1,
        processed_rows=1,
        error_count=1,
        finished_at=timezone.now(),
        errors=[{"row": 2, "reason": "phone: nope"}],
    )
    root = factories.UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)
    return {"lead": lead, "job": job, "cadence": Cadence.objects.first(), "root": root}


def _pages(site):
    lead, job, cadence = site["lead"].pk, site["job"].pk, site["cadence"].pk
    return {
        None: [
            reverse("login"),
            reverse("password_reset"),
            reverse("unsubscribe", kwargs={"token": unsubscribe_token(lead=site["lead"])}),
        ],
        "rep": [
            reverse("today:index"),
            reverse("leads:list"),
            reverse("leads:intake"),
            reverse("leads:detail", args=[lead]),
            reverse("leads:edit", args=[lead]),
            reverse("messaging:outbox"),
            reverse("notifications"),
            reverse("password_change"),
            reverse("reports:index"),
            reverse("reports:friday"),
            reverse("reports:compliance"),
            reverse("reports:speed"),
            reverse("reports:coverage"),
            reverse("reports:converts"),
        ],
        "manager": [
            reverse("today:team"),
            reverse("leads:assign", args=[lead]),
            reverse("leads:merge", args=[lead]),
            reverse("leads:import_new"),
            reverse("leads:import_detail", args=[job]),
            reverse("history:lead", args=[lead]),
        ],
        "root": [
            reverse("cadences:list"),
            reverse("cadences:detail", args=[cadence]),
            reverse("cadences:edit", args=[cadence]),
            reverse("cadences:create"),
            reverse("api:docs"),
            "/admin/",
            f"/admin/leads/lead/{lead}/change/",
        ],
    }


def _console_problem(message) -> bool:
    # The browser asks for /favicon.ico on its own; the site has none (a 404, not a policy matter).
    return message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico")


def _visit(page, url, problems):
    response = page.goto(url)
    assert response.status == 200, url
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "style-src 'self'" in policy, (url, policy)
    page.wait_for_load_state("networkidle")
    problems.extend(f"{url}: {v}" for v in page.evaluate("window.__cspViolations"))


def test_the_main_pages_run_under_the_policy_with_no_violation(browser, live_server, site, rep, manager):
    users = {"rep": rep, "manager": manager, "root": site["root"]}
    problems = []
    for who, urls in _pages(site).items():
        context = browser.new_context()
        context.add_init_script(RECORD_VIOLATIONS)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda m, who=who: _console_problem(m) and problems.append(f"{who} console: {m.text}"))
        page.on("pageerror", lambda e, who=who: problems.append(f"{who} script error: {e}"))
        if who is not None:
            lands_on = "/today/" if who == "rep" else "/today/team/"
            login(browser, live_server, users[who], page=page, lands_on=lands_on)
        for url in urls:
            _visit(page, live_server.url + url, problems)
            if url == reverse("reports:friday"):
                assert page.evaluate("!!Chart.getChart(document.getElementById('followed-chart'))")
            if url == reverse("leads:detail", args=[site["lead"].pk]):
                # 2 of the 5 attempts: the bar's width is set by static/js/leadfollow.js.
                assert page.evaluate("document.querySelector('[data-progress]').style.width") == "40%"
            if url == reverse("api:docs"):
                page.wait_for_selector(".swagger-ui .info .title")
                assert "LeadFollow API" in page.inner_text(".swagger-ui .info .title")
        context.close()
    assert not problems, "\n".join(problems)
