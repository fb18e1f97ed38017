"""Permission matrix: every URL pattern of the site against who may use it.

Each pattern (walked from the root URLconf; the Django admin is left to its own staff checks)
must have a row in EXPECTATIONS saying what an anonymous visitor, the lead's owner (alice), her
teammate (bob), a rep of another team (charlie), another team's manager (sam), the team's
manager (mona) and an admin (ada) get. A new page without a row fails
`test_every_url_pattern_has_an_expectation`: add its row here when you add the page.

"ok" is 2xx, 400 (a form's answer to an empty POST) or a redirect that is not to the login page;
"login" is the redirect to the login page. Objects of others are 404 (their existence is not
revealed), a wrong role is 403.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

ROLES = ("anonymous", "rep", "teammate", "other_rep", "other_manager", "manager", "admin")
OK = "ok"
LOGIN = "login"


def access(anonymous, rep, teammate, other_rep, other_manager, manager, admin) -> dict:
    return dict(zip(ROLES, (anonymous, rep, teammate, other_rep, other_manager, manager, admin), strict=True))


PUBLIC = access(OK, OK, OK, OK, OK, OK, OK)
LOGGED_IN = access(LOGIN, OK, OK, OK, OK, OK, OK)
# alice's lead (or her task): alice, her team's manager and admins; others 404.
ALICE_LEAD = access(LOGIN, OK, 404, 404, 404, OK, OK)
MANAGERS = access(LOGIN, 403, 403, 403, OK, OK, OK)
# A North object behind a manager-only page: reps 403 (role), the South manager 404 (scope).
NORTH_MANAGERS = access(LOGIN, 403, 403, 403, 404, OK, OK)
ADMINS = access(LOGIN, 403, 403, 403, 403, 403, OK)
# alice's customer: only she logs referral calls to them (and admins).
ALICE_ONLY = access(LOGIN, OK, 404, 404, 404, 404, OK)
# Twilio webhooks without a valid X-Twilio-Signature.
UNSIGNED = access(403, 403, 403, 403, 403, 403, 403)
# Mailgun webhooks (django-anymail) with a wrong signature: anymail answers 400 whoever is signed in.
BAD_MAILGUN_SIGNATURE = access(400, 400, 400, 400, 400, 400, 400)
# The lead API without an API key: a session does not authenticate it.
NO_API_KEY = access(401, 401, 401, 401, 401, 401, 401)
POST_ONLY = access(405, 405, 405, 405, 405, 405, 405)


@dataclass
class Case:
    expected: dict
    method: str = "get"
    kwargs: Callable | None = None
    data: Callable = lambda w: {}
    # Compare status codes as they are: a 400 here is the refusal itself, not a form's answer.
    exact_status: bool = False


def lead(w):
    return {"pk": w.lead.pk}


def lead_id(w):
    return {"lead_id": w.lead.pk}


def touch(w):
    return {"pk": w.touch.pk}


def cadence(w):
    return {"pk": w.cadence.pk}


def step(w):
    return {"pk": w.cadence.pk, "step_pk": w.step.pk}


def import_job(w):
    return {"pk": w.import_job.pk}


def appointment(w):
    """alice's meeting with her lead, made inside each role's savepoint (rolled back after it)."""
    import datetime as dt

    from django.utils import timezone

    from leads.models import Appointment

    booked = Appointment.objects.filter(lead=w.lead).first() or Appointment.objects.create(
        lead=w.lead, rep=w.users["rep"], starts_at=timezone.now() + dt.timedelta(days=1)
    )
    return {"pk": booked.pk}


def _mailgun_bad_signature():
    return {"timestamp": "1764657600", "token": "t" * 50, "signature": "0" * 64}


def mailgun_complaint(w):
    """A Mailgun legacy (form-posted) complaint about alice's lead's address, signed wrongly."""
    return {
        "event": "complained",
        "recipient": w.lead.email,
        "domain": "leadfollow.example",
        **_mailgun_bad_signature(),
    }


def mailgun_reply(w, mime=False):
    """A Mailgun route forward of a reply to a touch, raw MIME or parsed, signed wrongly."""
    headers = [
        ["From", w.lead.email],
        ["Subject", "Re: Hi"],
        ["In-Reply-To", f"<touch-{w.touch.pk}@leadfollow.example>"],
    ]
    body = (
        {"body-mime": "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\nYes"}
        if mime
        else {
            "message-headers": json.dumps(headers),
            "body-plain": "Yes",
        }
    )
    return {"sender": w.lead.email, "recipient": "replies@leadfollow.example", **body, **_mailgun_bad_signature()}


def unmatched_email(w):
    """An email that matched no lead, made inside each role's savepoint (rolled back after it)."""
    from messaging.models import InboundEmail

    inbound, _ = InboundEmail.objects.get_or_create(
        message_id="<matrix-unmatched@example.net>",
        defaults={"via": "command", "raw": b"From: someone@example.net\r\n\r\nHello", "text": "Hello"},
    )
    return {"pk": inbound.pk}


def snippet(w):
    """A shared snippet, made inside each role's savepoint (rolled back after it)."""
    from cadences.models import Snippet

    return {"pk": Snippet.objects.create(title="Pricing", channel="sms", body="Prices attached").pk}


EXPECTATIONS: dict[str, Case] = {
    # Site
    "home": Case(LOGGED_IN),
    "healthz": Case(PUBLIC),
    # Accounts (django.contrib.auth views)
    "notifications": Case(LOGGED_IN),
    "login": Case(PUBLIC),
    "logout": Case(POST_ONLY),
    "password_change": Case(LOGGED_IN),
    "password_change_done": Case(LOGGED_IN),
    "password_reset": Case(PUBLIC),
    "password_reset_done": Case(PUBLIC),
    "password_reset_confirm": Case(PUBLIC, kwargs=lambda w: {"uidb64": "MQ", "token": "not-a-valid-token"}),
    "password_reset_complete": Case(PUBLIC),
    # Leads
    "leads:list": Case(LOGGED_IN),
    "leads:intake": Case(LOGGED_IN),
    "leads:detail": Case(ALICE_LEAD, kwargs=lead),
    "leads:note_add": Case(ALICE_LEAD, "post", lead),
    "leads:edit": Case(ALICE_LEAD, kwargs=lead),
    "leads:status": Case(ALICE_LEAD, "post", lead),
    "leads:assign": Case(NORTH_MANAGERS, kwargs=lead),
    "leads:merge": Case(NORTH_MANAGERS, kwargs=lead),
    "leads:import_new": Case(MANAGERS),
    # mona's import: its creator and admins.
    "leads:import_detail": Case(NORTH_MANAGERS, kwargs=import_job),
    "leads:import_errors_csv": Case(NORTH_MANAGERS, kwargs=import_job),
    "leads:import_retry": Case(NORTH_MANAGERS, "post", import_job),
    "history:lead": Case(NORTH_MANAGERS, kwargs=lead),
    # A rep writes to alice's lead, and its conversation (sending: test_compose_send_of_another_team_is_404)
    "leads:compose": Case(ALICE_LEAD, kwargs=lambda w: {"pk": w.lead.pk, "channel": "sms"}),
    "leads:conversation": Case(ALICE_LEAD, kwargs=lead),
    # API
    "api:lead_create": Case(NO_API_KEY, "post", data=lambda w: {"first_name": "Api", "phone": "+14155550199"}),
    "api:schema": Case(PUBLIC),
    "api:docs": Case(PUBLIC),
    # The rest of /api/ (reversed as /api/ itself): a JSON 404 for everyone.
    "api:not_found": Case(access(*[404] * len(ROLES))),
    # Cadence editor: admins only
    "cadences:list": Case(ADMINS),
    "cadences:create": Case(ADMINS),
    "cadences:detail": Case(ADMINS, kwargs=cadence),
    "cadences:edit": Case(ADMINS, kwargs=cadence),
    "cadences:toggle_active": Case(ADMINS, "post", cadence),
    "cadences:preview": Case(ADMINS, "post", cadence),
    "cadences:step_add": Case(ADMINS, "post", cadence),
    "cadences:step_edit": Case(ADMINS, kwargs=step),
    "cadences:step_remove": Case(ADMINS, "post", step),
    "cadences:step_move": Case(ADMINS, "post", lambda w: {**step(w), "direction": "down"}),
    "history:cadence": Case(ADMINS, kwargs=cadence),
    # A lead's cadence panel: whoever may see the lead
    "enrollments:panel": Case(ALICE_LEAD, kwargs=lead_id),
    "enrollments:start": Case(ALICE_LEAD, "post", lead_id, lambda w: {"cadence": w.cadence.pk}),
    "enrollments:pause": Case(ALICE_LEAD, "post", lead_id),
    "enrollments:resume": Case(ALICE_LEAD, "post", lead_id),
    "enrollments:exit": Case(ALICE_LEAD, "post", lead_id),
    # Messaging
    "messaging:outbox": Case(LOGGED_IN),
    "webhooks:twilio_sms": Case(UNSIGNED, "post", data=lambda w: {"From": w.lead.phone, "Body": "STOP"}),
    "webhooks:twilio_status": Case(
        UNSIGNED, "post", data=lambda w: {"MessageSid": "SM" + "0" * 32, "MessageStatus": "failed"}
    ),
    "webhooks:mailgun_tracking": Case(BAD_MAILGUN_SIGNATURE, "post", data=mailgun_complaint, exact_status=True),
    "webhooks:mailgun_inbound": Case(BAD_MAILGUN_SIGNATURE, "post", data=mailgun_reply, exact_status=True),
    "webhooks:mailgun_inbound_mime": Case(
        BAD_MAILGUN_SIGNATURE, "post", data=lambda w: mailgun_reply(w, mime=True), exact_status=True
    ),
    # Unmatched replies: every manager and admin sees them (no lead, no team yet); attaching to alice's
    # lead needs her lead in scope (the South manager: 404).
    "unmatched_replies": Case(MANAGERS),
    "unmatched_reply_attach": Case(NORTH_MANAGERS, "post", unmatched_email, lambda w: {"lead": w.lead.pk}),
    "unmatched_reply_discard": Case(MANAGERS, "post", unmatched_email),
    # The signed token is the capability (one-click unsubscribe from an email): no login.
    "unsubscribe": Case(PUBLIC, kwargs=lambda w: {"token": w.unsubscribe_token}),
    # Today
    "today:index": Case(LOGGED_IN),
    "today:team": Case(MANAGERS),
    # "New reply" badges for the leads on one's Today (scoped to the leads one sees: test_new_reply.py)
    # Shared snippets: managers and admins keep them (any team's manager: they are shared), reps pick them.
    "snippets": Case(MANAGERS),
    "snippet_create": Case(MANAGERS),
    "snippet_edit": Case(MANAGERS, kwargs=snippet),
    "snippet_delete": Case(MANAGERS, kwargs=snippet),
    "today:replies": Case(LOGGED_IN, data=lambda w: {"lead": [w.lead.pk]}),
    "today:team_rep": Case(NORTH_MANAGERS, kwargs=lambda w: {"user_id": w.users["rep"].pk}),
    # Bulk reassign of alice's task: another team's manager gets 404 (outside their teams), reps 403.
    "today:team_reassign": Case(
        NORTH_MANAGERS, "post", data=lambda w: {"touches": [w.touch.pk], "to": w.users["teammate"].pk}
    ),
    "today:outcome": Case(ALICE_LEAD, "post", touch),
    "today:row_more": Case(ALICE_LEAD, kwargs=touch),
    "today:snooze": Case(ALICE_LEAD, "post", touch),
    "today:reassign": Case(NORTH_MANAGERS, "post", touch),
    # After "Not interested": close / nurture / keep going on alice's lead (scoped like her tasks)
    "today:decision": Case(ALICE_LEAD, "post", lead_id, lambda w: {"decision": "keep", "touch": w.touch.pk}),
    "today:referral_log": Case(ALICE_ONLY, "post", lambda w: {"contact_id": w.contact.pk}),
    # Call mode: one's own calls (another rep's through ?rep=, below); logging needs the task's rights.
    "today:call_mode": Case(LOGGED_IN),
    "today:call_outcome": Case(ALICE_LEAD, "post", touch),
    # Appointments: the dialog of alice's task, and her meeting's reschedule / no-show / held
    "today:appointment_new": Case(ALICE_LEAD, kwargs=touch),
    "today:appointment_reschedule": Case(ALICE_LEAD, kwargs=appointment),
    "today:appointment_no_show": Case(ALICE_LEAD, "post", appointment),
    "today:appointment_held": Case(ALICE_LEAD, "post", appointment),
    # Reports: every signed-in user, each scoped to what they may see (checked in test_scopes.py)
    "reports:index": Case(LOGGED_IN),
    "reports:friday": Case(LOGGED_IN),
    "reports:friday_csv": Case(LOGGED_IN),
    "reports:compliance": Case(LOGGED_IN),
    "reports:speed": Case(LOGGED_IN),
    "reports:coverage": Case(LOGGED_IN),
    "reports:converts": Case(LOGGED_IN),
    # One's own weekly summary email (on/off): every signed-in user, for themselves only
    "reports:weekly_email": Case(LOGGED_IN),
}


def url_pattern_names(patterns=None, prefix="", namespace=None):
    """Qualified names ("leads:detail") of every URL pattern, or the route for an unnamed one."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(("admin/", "static/", "media/")):
            continue
        if isinstance(pattern, URLResolver):
            ns = ":".join(filter(None, [namespace, pattern.namespace])) or None
            yield from url_pattern_names(pattern.url_patterns, route, ns)
        elif isinstance(pattern, URLPattern):
            if pattern.name is None:
                yield f"<unnamed {route}>"
            else:
                yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_every_url_pattern_has_an_expectation():
    names = list(url_pattern_names())
    assert len(names) == len(set(names)), "two patterns share a name"
    missing = sorted(set(names) - set(EXPECTATIONS))
    stale = sorted(set(EXPECTATIONS) - set(names))
    assert not missing, f"URL patterns with no row in EXPECTATIONS (who may use them?): {missing}"
    assert not stale, f"Rows in EXPECTATIONS for URL patterns that no longer exist: {stale}"


def _outcome(response) -> str | int:
    status = response.status_code
    if status == 302:
        login = reverse(settings.LOGIN_URL)
        return LOGIN if response.url.startswith(login) else OK
    if 200 <= status < 300 or status == 400:
        return OK
    return status


def _request(name, case, world, user):
    client = Client()
    if user is not None:
        client.force_login(user)
    url = reverse(name, kwargs=case.kwargs(world) if case.kwargs else {})
    assert resolve(url).view_name == name
    return url, getattr(client, case.method)(url, case.data(world))


@pytest.fixture
def twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = "matrix-test-token"


@pytest.fixture
def mailgun_signing_key(settings):
    """A key the wrongly signed Mailgun posts above are checked against (unset, it is random)."""
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": "matrix-test-key"}


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_access(name, world, twilio_token, mailgun_signing_key):
    """Each role in turn, each inside a savepoint rolled back after it: one role's POST cannot change the next's."""
    case = EXPECTATIONS[name]
    got = {}
    for role in ROLES:
        with transaction.atomic():
            url, response = _request(name, case, world, world.users[role])
            got[role] = response.status_code if case.exact_status else _outcome(response)
            transaction.set_rollback(True)
    wrong = {
        role: f"expected {case.expected[role]}, got {got[role]}" for role in ROLES if got[role] != case.expected[role]
    }
    assert not wrong, f"{case.method.upper()} {url}: {wrong}"


def test_call_mode_of_another_rep(world):
    """`?rep=<alice>`: alice herself, her team's manager and admins; everyone else 404 (not 403: the
    rep's existence is not revealed)."""
    url = reverse("today:call_mode") + f"?rep={world.users['rep'].pk}"
    got = {}
    for role in ROLES:
        client = Client()
        if world.users[role] is not None:
            client.force_login(world.users[role])
        got[role] = _outcome(client.get(url))
    assert got == ALICE_LEAD


def test_compose_send_of_another_team_is_404(world):
    """Sending to alice's lead: her teammate, another team's rep and manager get 404 and nothing is
    created; alice herself sends (302 back to the lead)."""
    from cadences.models import Touch

    url = reverse("leads:compose", kwargs={"pk": world.lead.pk, "channel": "sms"})
    got = {}
    for role in ("teammate", "other_rep", "other_manager", "rep"):
        client = Client()
        client.force_login(world.users[role])
        got[role] = client.post(url, {"body": "Hello"}).status_code
    assert got == {"teammate": 404, "other_rep": 404, "other_manager": 404, "rep": 302}
    assert Touch.objects.filter(lead=world.lead, automated=True, body="Hello").count() == 1
