"""Writes on others' objects: with a valid form, still 404/403, and nothing about the object changes."""

import pytest
from django.forms.models import model_to_dict

from accounts.models import Notification
from cadences.models import Cadence, CadenceStep, Enrollment, Touch
from leads.models import Contact, ImportJob, Lead, LeadEvent
from messaging.models import Message


def snapshot(world) -> dict:
    """Everything a write on alice's lead, task, customer, import or the cadence could touch."""
    lead = world.lead
    return {
        "lead": model_to_dict(Lead.objects.get(pk=lead.pk)),
        "leads": Lead.objects.count(),
        "events": list(LeadEvent.objects.filter(lead=lead).values_list("pk", "kind", "text")),
        "touches": list(Touch.objects.filter(lead=lead).values_list("pk", "status", "assigned_to", "due_at")),
        "enrollments": list(Enrollment.objects.values_list("pk", "state")),
        "messages": Message.objects.count(),
        "notifications": Notification.objects.count(),
        "contact": model_to_dict(Contact.objects.get(pk=world.contact.pk)),
        "import": model_to_dict(ImportJob.objects.get(pk=world.import_job.pk)),
        "cadence": model_to_dict(Cadence.objects.get(pk=world.cadence.pk), exclude=["sources"]),
        "steps": list(CadenceStep.objects.values_list("pk", "day", "position", "retired_at")),
        "history": Lead.history.filter(id=lead.pk).count(),
    }


def _edit(w):
    return {"first_name": "Pwned", "phone": w.lead.phone, "timezone": "America/Chicago", "company": "Evil Corp"}


WRITES = {
    "note": ("/leads/{lead}/notes/", lambda w: {"text": "I was here"}),
    "edit": ("/leads/{lead}/edit/", _edit),
    "status": ("/leads/{lead}/status/", lambda w: {"status": "won", "reason": "mine now"}),
    "assign": ("/leads/{lead}/assign/", lambda w: {"owner": w.users["other_rep"].pk}),
    # Another team's lead as the primary, alice's as the duplicate: the duplicate must stay hidden.
    "merge": ("/leads/{charlie_lead}/merge/", lambda w: {"duplicate": w.lead.pk}),
    "enroll": ("/enrollments/lead/{lead}/start/", lambda w: {"cadence": w.cadence.pk}),
    "pause": ("/enrollments/lead/{lead}/pause/", lambda w: {}),
    "exit": ("/enrollments/lead/{lead}/exit/", lambda w: {}),
    "outcome": ("/today/touches/{touch}/outcome/", lambda w: {"outcome": "connected", "note": "x"}),
    "snooze": ("/today/touches/{touch}/snooze/", lambda w: {"until": "1h"}),
    "reassign": ("/today/touches/{touch}/reassign/", lambda w: {"to": w.users["other_rep"].pk}),
    "decision": ("/today/leads/{lead}/decision/", lambda w: {"decision": "nurture", "touch": w.touch.pk}),
    "referral": ("/today/referrals/{contact}/", lambda w: {"result": "none", "note": "x"}),
    "import_retry": ("/leads/import/{import_job}/retry/", lambda w: {}),
    "cadence_toggle": ("/cadences/{cadence}/toggle-active/", lambda w: {}),
    "step_remove": ("/cadences/{cadence}/steps/{step}/remove/", lambda w: {}),
    "step_move": ("/cadences/{cadence}/steps/{step}/move/down/", lambda w: {}),
}


def _url(template, w):
    return template.format(
        lead=w.lead.pk,
        charlie_lead=w.charlie_lead.pk,
        touch=w.touch.pk,
        contact=w.contact.pk,
        import_job=w.import_job.pk,
        cadence=w.cadence.pk,
        step=w.step.pk,
    )


# The merge case is about another team's primary, so it is not asked of alice's teammate.
CASES = [
    (who, action)
    for action in sorted(WRITES)
    for who in ("teammate", "other_rep", "other_manager")
    if not (action == "merge" and who == "teammate")
]


@pytest.mark.parametrize(("who", "action"), CASES)
def test_others_cannot_write(world, client_for, who, action):
    template, data = WRITES[action]
    before = snapshot(world)
    response = client_for(world.users[who]).post(_url(template, world), data(world))
    assert response.status_code in (403, 404), response.status_code
    assert snapshot(world) == before


def test_the_owner_write_does_change_something(world, client_for, rep):
    """Control: the same request by alice changes the snapshot, so the check above can see a change."""
    before = snapshot(world)
    response = client_for(rep).post(_url(WRITES["edit"][0], world), _edit(world))
    assert response.status_code == 302
    assert snapshot(world) != before


def test_anonymous_writes_change_nothing(world, client):
    before = snapshot(world)
    for template, data in WRITES.values():
        response = client.post(_url(template, world), data(world))
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert snapshot(world) == before
