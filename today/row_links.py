"""The links and form actions of Today's rows, reversed once per list instead of once per row.

A row has up to nine of them; `{% url %}` for each made a quarter of the page's time. Each URL is
reversed once with a stand-in id and the row's own id put in its place: the same URL `reverse()`
gives, since the ids are plain integers in the path.
"""

from django.urls import reverse

_STAND_IN = 2_147_483_647  # no real id: never part of a URL's fixed text


class _Link:
    def __init__(self, name: str, *rest):
        self.head, self.tail = reverse(name, args=[_STAND_IN, *rest]).split(str(_STAND_IN), 1)

    def __call__(self, pk: int) -> str:
        return f"{self.head}{int(pk)}{self.tail}"


def row_links_attach(touches: list) -> None:
    """`touch.links` for each row: the lead, its outcome, "More", snooze, reassign and appointment
    forms, writing to the lead, and a meeting's actions."""
    if not touches:
        return
    lead = _Link("leads:detail")
    compose = {channel: _Link("leads:compose", channel) for channel in ("email", "sms")}
    task = {name: _Link(f"today:{name}") for name in ("outcome", "row_more", "snooze", "reassign", "appointment_new")}
    meeting = {name: _Link(f"today:appointment_{name}") for name in ("held", "no_show", "reschedule")}
    for touch in touches:
        links = {"lead": lead(touch.lead_id), **{name: link(touch.pk) for name, link in task.items()}}
        links["more"] = links.pop("row_more")
        links.update({f"compose_{channel}": link(touch.lead_id) for channel, link in compose.items()})
        if touch.appointment_id:
            links.update({f"appointment_{name}": link(touch.appointment_id) for name, link in meeting.items()})
        touch.links = links
