"""Shared snippets (cadences.snippets, /snippets/): managers keep them, unknown merge fields refused."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from cadences.models import Snippet
from cadences.snippets import snippet_create

pytestmark = pytest.mark.django_db


def test_a_manager_creates_edits_and_deletes_a_snippet(client_for, manager):
    client = client_for(manager)
    response = client.post(
        reverse("snippet_create"),
        {"title": "Pricing", "channel": "email", "subject": "Prices, {{ lead.first_name }}", "body": "Attached."},
    )
    assert response.status_code == 302
    snippet = Snippet.objects.get()
    assert (snippet.title, snippet.channel, snippet.created_by) == ("Pricing", "email", manager)
    assert "Pricing" in client.get(reverse("snippets")).content.decode()

    client.post(reverse("snippet_edit", kwargs={"pk": snippet.pk}), {"title": "Prices", "channel": "sms", "body": "Hi"})
    snippet.refresh_from_db()
    assert (snippet.title, snippet.channel, snippet.subject) == ("Prices", "sms", "")  # a text has no subject

    assert client.post(reverse("snippet_delete", kwargs={"pk": snippet.pk})).status_code == 302
    assert not Snippet.objects.exists()


def test_unknown_merge_field_is_refused_with_the_text_kept(client_for, manager):
    response = client_for(manager).post(
        reverse("snippet_create"), {"title": "Old", "channel": "sms", "body": "Dear {{ lead.title }}"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Unknown merge field {{ lead.title }}" in page and "Dear {{ lead.title }}</textarea>" in page
    assert not Snippet.objects.exists()


def test_reps_cannot_keep_snippets(rep):
    with pytest.raises(PermissionDenied):
        snippet_create(by=rep, title="Mine", channel="sms", body="Hi")


def test_a_snippet_needs_a_body(manager):
    with pytest.raises(ValidationError) as caught:
        snippet_create(by=manager, title="Empty", channel="sms", body=" ")
    assert "body" in caught.value.message_dict
