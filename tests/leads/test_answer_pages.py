"""The pages where a rep answers a lead: compose (email, text) and the conversation (leads/answers/)."""

import pytest
from django.urls import reverse

from cadences.models import Channel, Outcome, Snippet, TouchStatus
from cadences.services import enrollment_start
from leads.models import Lead
from messaging.models import Message
from tests.factories import CadenceFactory, CadenceStepFactory, LeadFactory


@pytest.fixture
def lead(rep):
    return LeadFactory(
        owner=rep, first_name="Dana", phone="+12125551234", email="dana@example.org", timezone="America/New_York"
    )


def compose_url(lead, channel, **query):
    url = reverse("leads:compose", kwargs={"pk": lead.pk, "channel": channel})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_compose_page_offers_the_cadence_steps_and_snippets_rendered(client_for, rep, lead):
    cadence = CadenceFactory(name="Follow-up")
    CadenceStepFactory(cadence=cadence, day=0, channel=Channel.SMS, automated=True, body="Hi {{ lead.first_name }}")
    enrollment_start(lead=lead, cadence=cadence)
    snippet = Snippet.objects.create(title="Pricing", channel="sms", body="{{ rep.first_name }} here: prices attached")
    Snippet.objects.create(title="Email only", channel="email", subject="S", body="B")
    client = client_for(rep)

    page = client.get(compose_url(lead, "sms")).content.decode()
    assert "Follow-up: Day 0" in page and "Snippet: Pricing" in page and "Email only" not in page
    assert 'data-sms-counter="sms-count"' in page

    picked = client.get(compose_url(lead, "sms", template=f"snippet:{snippet.pk}")).content.decode()
    assert "Alice here: prices attached</textarea>" in picked


def test_a_template_with_an_unknown_merge_field_is_refused_when_picked(client_for, rep, lead):
    snippet = Snippet.objects.create(title="Old", channel="email", subject="Hi", body="Dear {{ lead.title }}")
    page = client_for(rep).get(compose_url(lead, "email", template=f"snippet:{snippet.pk}")).content.decode()
    assert "cannot be used: Unknown merge field {{ lead.title }}" in page
    assert "Dear" not in page


def test_sending_an_email_goes_out_and_returns_to_the_lead(
    client_for, rep, lead, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(rep).post(compose_url(lead, "email"), {"subject": "Quote", "body": "Here it is"})
    assert response.status_code == 302 and response.url.endswith(f"/leads/{lead.pk}/#conversation")
    [mail] = smtp_server.messages()
    assert mail["Subject"] == "Quote"


def test_a_refusal_keeps_what_was_typed(client_for, rep, lead):
    Lead.objects.filter(pk=lead.pk).update(sms_opt_out=True)
    client = client_for(rep)
    assert "Cannot send: Opted out of SMS." in client.get(compose_url(lead, "sms")).content.decode()
    response = client.post(compose_url(lead, "sms"), {"body": "Still there? {{ lead.first_name }}"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Still there? {{ lead.first_name }}</textarea>" in page
    assert page.count("Cannot send: Opted out of SMS.") == 2  # above the form and as the form's error
    assert not lead.touches.exists()


def test_an_unknown_merge_field_typed_is_a_field_error(client_for, rep, lead):
    response = client_for(rep).post(compose_url(lead, "email"), {"subject": "Hi", "body": "Hi {{ lead.nick }}"})
    assert "Unknown merge field {{ lead.nick }}" in response.content.decode()
    assert not lead.touches.exists()


def test_a_manual_sms_step_is_prefilled_and_done_by_sending(
    client_for, rep, lead, fake_twilio, django_capture_on_commit_callbacks
):
    cadence = CadenceFactory()
    CadenceStepFactory(cadence=cadence, day=0, send_hour=None, channel=Channel.SMS, body="Hi {{ lead.first_name }}!")
    CadenceStepFactory(cadence=cadence, day=1, channel=Channel.CALL)
    enrollment = enrollment_start(lead=lead, cadence=cadence)
    task = enrollment.touches.get(channel=Channel.SMS)
    client = client_for(rep)

    assert "Hi Dana!</textarea>" in client.get(compose_url(lead, "sms", task=task.pk)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(compose_url(lead, "sms"), {"body": "Hi Dana! Call me back?", "task": task.pk})

    assert response.status_code == 302
    task.refresh_from_db()
    lead.refresh_from_db()
    assert (task.status, task.outcome) == (TouchStatus.DONE, Outcome.SENT)
    assert lead.attempt_count == 1
    assert enrollment.touches.get(channel=Channel.CALL).status == TouchStatus.SCHEDULED
    assert [m["body"] for m in fake_twilio.messages()] == ["Hi Dana! Call me back?"]


def test_another_reps_task_is_404(client_for, rep, teammate, lead):
    from tests.factories import TouchFactory

    bobs = TouchFactory(lead=LeadFactory(owner=teammate), channel=Channel.SMS)
    assert client_for(rep).get(compose_url(lead, "sms", task=bobs.pk)).status_code == 404


def _messages(lead, count):
    for i in range(count):
        Message.objects.create(
            direction="in" if i % 2 else "out", channel="sms" if i % 3 else "email", lead=lead, to="x",
            subject="" if i % 3 else f"Subject {i}", body=f"Message {i}", status="sent",
        )  # fmt: skip


def test_conversation_is_oldest_first_capped_with_older_and_distinguishes_inbound(client_for, rep, lead):
    _messages(lead, 35)
    client = client_for(rep)
    page = client.get(reverse("leads:conversation", kwargs={"pk": lead.pk})).content.decode()
    assert "Message 4\n" not in page and page.index("Message 5<") < page.index("Message 34<")
    assert 'data-direction="in"' in page and 'data-direction="out"' in page
    assert "Older messages" in page
    first = Message.objects.filter(lead=lead).order_by("id")[5].pk
    older = client.get(reverse("leads:conversation", kwargs={"pk": lead.pk}) + f"?before={first}").content.decode()
    assert "Message 0<" in older and "Message 4<" in older and "Message 5<" not in older


@pytest.mark.parametrize("count", [3, 40])
def test_conversation_queries_do_not_grow_with_messages(client_for, rep, lead, count, django_assert_num_queries):
    _messages(lead, count)
    client = client_for(rep)
    url = reverse("leads:conversation", kwargs={"pk": lead.pk})
    client.get(url)  # the session is loaded once, like any warm page
    # The same five with 3 or 40 messages: session, user, the lead (scoped), its messages, and one more
    # of the request's own (the page's constant cost; the count is what matters).
    with django_assert_num_queries(5):
        assert client.get(url).status_code == 200


def test_the_live_poll_is_204_until_a_message_arrives(client_for, rep, lead):
    _messages(lead, 2)
    client = client_for(rep)
    url = reverse("leads:conversation", kwargs={"pk": lead.pk})
    latest = Message.objects.filter(lead=lead).order_by("-id").first().pk
    assert client.get(f"{url}?since={latest}").status_code == 204
    Message.objects.create(direction="in", channel="sms", lead=lead, to="x", body="Are you there?", status="received")
    response = client.get(f"{url}?since={latest}")
    assert response.status_code == 200 and "Are you there?" in response.content.decode()


def test_lead_page_has_the_actions_and_loads_the_conversation(client_for, rep, lead):
    page = client_for(rep).get(reverse("leads:detail", kwargs={"pk": lead.pk})).content.decode()
    assert reverse("leads:compose", kwargs={"pk": lead.pk, "channel": "email"}) in page
    assert reverse("leads:compose", kwargs={"pk": lead.pk, "channel": "sms"}) in page
    assert reverse("leads:conversation", kwargs={"pk": lead.pk}) in page


def test_unknown_channel_is_404(client_for, rep, lead):
    assert client_for(rep).get(compose_url(lead, "fax")).status_code == 404


def _send_key(page: str) -> str:
    import re

    return re.search(r'name="send_key" value="([0-9a-f-]{36})"', page).group(1)


@pytest.mark.parametrize("with_task", [False, True], ids=["from the lead page", "a manual step"])
def test_the_same_form_posted_twice_sends_once_and_says_sent_again(
    client_for, rep, lead, fake_twilio, django_capture_on_commit_callbacks, with_task
):
    """A double click on Send, or a browser resending after a timeout: one text, one attempt."""
    query, data = {}, {"body": "Hi Dana, the quote is ready."}
    if with_task:
        cadence = CadenceFactory()
        CadenceStepFactory(cadence=cadence, day=0, send_hour=None, channel=Channel.SMS, body="Hi")
        task = enrollment_start(lead=lead, cadence=cadence).touches.get(channel=Channel.SMS)
        query, data = {"task": task.pk}, {**data, "task": task.pk}
    client = client_for(rep)
    data["send_key"] = _send_key(client.get(compose_url(lead, "sms", **query)).content.decode())

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(compose_url(lead, "sms"), data)
        second = client.post(compose_url(lead, "sms"), data, follow=True)

    assert first.status_code == 302 and second.redirect_chain[-1][0] == first.url
    assert "Text to Dana on its way" in second.content.decode()
    assert [m["body"] for m in fake_twilio.messages()] == ["Hi Dana, the quote is ready."]
    lead.refresh_from_db()
    assert lead.attempt_count == 1
    assert lead.touches.filter(automated=True, body="Hi Dana, the quote is ready.").count() == 1


def test_each_form_shown_has_its_own_key(client_for, rep, lead):
    client = client_for(rep)
    keys = {_send_key(client.get(compose_url(lead, "email")).content.decode()) for _ in range(2)}
    assert len(keys) == 2


def test_the_compose_page_names_the_number_as_a_person_reads_it(client_for, rep, lead):
    page = client_for(rep).get(compose_url(lead, "sms")).content.decode()
    assert "To (212) 555-1234" in page and "+12125551234" not in page
