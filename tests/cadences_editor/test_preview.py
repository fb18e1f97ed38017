"""Live preview of a step's templates for the sample lead."""

from django.urls import reverse

from cadences.rendering import MERGE_FIELDS


def preview(client, cadence, **data):
    return client.post(reverse("cadences:preview", args=[cadence.pk]), data, HTTP_HX_REQUEST="true")


def test_preview_renders_merge_fields_for_the_sample_lead(admin_client, admin_user, cadence):
    response = preview(
        admin_client,
        cadence,
        channel="email",
        automated="on",
        subject="{{ lead.first_name }}, an idea for {{ lead.company }}",
        body="Hi {{ lead.full_name }}, {{ rep.first_name }} here.",
        talking_points="Mention {{ lead.interest }}",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "Jordan, an idea for Acme Dental" in html
    assert f"Hi Jordan Rivera, {admin_user.first_name} here." in html
    assert "Mention online booking" in html
    assert "Unknown merge field" not in html


def test_preview_flags_unknown_fields(admin_client, cadence):
    html = preview(admin_client, cadence, channel="email", automated="on", body="Hi {{ lead.nickname }}!").content
    html = html.decode()
    assert "Unknown merge field <code>{{ lead.nickname }}</code>" in html
    assert "an automated step cannot be saved with it" in html
    # Unknown fields render empty, like in a real send.
    assert "Hi !" in html
    manual = preview(admin_client, cadence, channel="email", body="Hi {{ lead.nickname }}!").content.decode()
    assert "it will be empty" in manual


def test_preview_reports_template_errors(admin_client, cadence):
    html = preview(admin_client, cadence, channel="call", talking_points="{% bogus %}").content.decode()
    assert "Template error" in html


def test_preview_counts_sms_length(admin_client, cadence):
    html = preview(admin_client, cadence, channel="sms", automated="on", body="Hi {{ lead.first_name }}").content
    assert "SMS length for this lead: 9 characters" in html.decode()


def test_preview_with_nothing_typed(admin_client, cadence):
    html = preview(admin_client, cadence).content.decode()
    assert "Type a subject, body or talking points" in html


def test_cadence_page_wires_the_preview_and_lists_merge_fields(admin_client, cadence):
    html = admin_client.get(reverse("cadences:detail", args=[cadence.pk])).content.decode()
    preview_url = reverse("cadences:preview", args=[cadence.pk])
    assert f'hx-post="{preview_url}"' in html
    assert 'hx-trigger="keyup changed delay:400ms"' in html
    for name in MERGE_FIELDS:
        assert f"{{{{ {name} }}}}" in html
