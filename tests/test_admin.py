"""Django admin: every model of the project is registered and every changelist loads."""

import io
import re

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse

from leads.models import LeadSource
from leads.services.api_keys import lead_source_for_api_key, lead_source_issue_api_key

PROJECT_APPS = ("accounts", "leads", "cadences", "messaging", "reports")


def project_models():
    return [m for label in PROJECT_APPS for m in apps.get_app_config(label).get_models()]


def test_every_project_model_is_registered_in_admin():
    inlined = {inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines}
    # django-simple-history's Historical* models are shown by their tracked model's admin ("History").
    historical = {m for m in project_models() if hasattr(m, "instance_type")}
    missing = [
        m._meta.label
        for m in project_models()
        if not admin.site.is_registered(m) and m not in inlined and m not in historical
    ]
    assert missing == [], f"Register these in their app's admin.py: {missing}"


@pytest.fixture
def superuser(db):
    from tests.factories import UserFactory

    call_command("seed_demo", stdout=io.StringIO())  # rows for the changelists and change pages
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_every_admin_changelist_and_add_page_loads(client, superuser):
    client.force_login(superuser)
    failures = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = client.get(url)
        if response.status_code != 200:
            failures.append((url, response.status_code))
        if model_admin.has_add_permission(_request(superuser)):
            add = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
            if add.status_code != 200:
                failures.append((f"{opts.label} add", add.status_code))
        first = model._default_manager.first()
        if first is not None:
            change = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk]))
            if change.status_code != 200:
                failures.append((f"{opts.label} change", change.status_code))
    assert failures == []


def test_lead_changelist_search_and_filter(client, superuser):
    client.force_login(superuser)
    url = reverse("admin:leads_lead_changelist")
    assert client.get(url, {"q": "Mitchell"}).status_code == 200
    assert client.get(url, {"status__exact": "won"}).status_code == 200


def _request(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_issue_api_key_action_shows_the_key_once_and_stores_only_its_hash(client, superuser):
    client.force_login(superuser)
    source = LeadSource.objects.get(name="Referral")
    response = client.post(
        reverse("admin:leads_leadsource_changelist"),
        {"action": "issue_api_key", "_selected_action": [source.pk]},
    )
    assert response.status_code == 302
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    key = next(word for text in texts for word in text.split() if word.startswith("lf_"))
    source.refresh_from_db()
    assert key not in source.api_key_hash
    assert lead_source_for_api_key(key) == source
    # Shown on the next page, then never again.
    changelist = reverse("admin:leads_leadsource_changelist")
    assert key in client.get(changelist).content.decode()
    assert key not in client.get(changelist).content.decode()


def test_revoke_action_disables_the_key(client, superuser):
    client.force_login(superuser)
    source = LeadSource.objects.get(name="Trade show")
    key = lead_source_issue_api_key(source=source)
    response = client.post(
        reverse("admin:leads_leadsource_changelist"),
        {"action": "revoke_api_key", "_selected_action": [source.pk]},
    )
    assert response.status_code == 302
    assert lead_source_for_api_key(key) is None
    source.refresh_from_db()
    assert source.api_key_revoked_at is not None


@pytest.mark.parametrize("fixture", ["rep", "manager"])
def test_non_staff_users_cannot_use_the_admin(request, client_for, fixture, web_source):
    client = client_for(request.getfixturevalue(fixture))
    response = client.get(reverse("admin:leads_lead_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_anonymous_is_sent_to_the_admin_login(client, db):
    response = client.get(reverse("admin:leads_leadsource_changelist"))
    assert response.status_code == 302
    assert settings.LOGIN_URL != response.url


def test_leads_cannot_be_deleted_in_the_admin(client, superuser):
    from tests.factories import LeadFactory

    lead = LeadFactory()
    client.force_login(superuser)
    response = client.post(f"/admin/leads/lead/{lead.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert type(lead).objects.filter(pk=lead.pk).exists()


def test_admin_index_names_every_model_in_good_english(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    html = client.get(reverse("admin:index")).content.decode()
    assert ">Touches</a>" in html and ">Report deliveries</a>" in html
    assert "Touchs" not in html and "Deliverys" not in html.title()
    # Django adds an "s" to verbose_name unless verbose_name_plural says otherwise.
    for model in admin.site._registry:
        plural = str(model._meta.verbose_name_plural)
        assert not re.search(r"(?:[^aeiou]ys|chs|shs|xs|sss|uss)$", plural), f"{model._meta.label}: {plural!r}"
