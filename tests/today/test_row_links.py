"""Today's row links (today.row_links) are exactly what reverse() gives for each row."""

from django.urls import reverse

from cadences.models import Touch
from today.row_links import row_links_attach


def test_every_link_of_a_row_is_the_reversed_url():
    task = Touch(pk=5, lead_id=70)
    meeting = Touch(pk=6, lead_id=71, appointment_id=900)
    row_links_attach([task, meeting])

    assert task.links == {
        "lead": reverse("leads:detail", args=[70]),
        "outcome": reverse("today:outcome", args=[5]),
        "more": reverse("today:row_more", args=[5]),
        "snooze": reverse("today:snooze", args=[5]),
        "reassign": reverse("today:reassign", args=[5]),
        "appointment_new": reverse("today:appointment_new", args=[5]),
        "compose_email": reverse("leads:compose", args=[70, "email"]),
        "compose_sms": reverse("leads:compose", args=[70, "sms"]),
    }
    for name in ("held", "no_show", "reschedule"):
        assert meeting.links[f"appointment_{name}"] == reverse(f"today:appointment_{name}", args=[900])
    assert meeting.links["outcome"] == reverse("today:outcome", args=[6])
