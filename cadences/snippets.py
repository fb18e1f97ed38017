"""Saved answers (Snippet) and what a rep may start a message from: writes and reads in one small topic.

Managers and admins keep the shared snippets; reps pick them, or one of their lead's cadence
steps on the channel, when they write to a lead (reactions.rep_messages). Merge fields are the
steps' (cadences.rendering); a snippet with an unknown one is refused when saved.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError

from cadences.models import Channel, Enrollment, Snippet
from cadences.rendering import render_text, template_errors

SNIPPET_CHANNELS = (Channel.EMAIL, Channel.SMS)


def _may_manage(user) -> bool:
    return user.is_superuser or user.is_admin_role or user.is_manager


def _validated(*, title: str, channel: str, subject: str, body: str) -> dict:
    errors: dict[str, list[str]] = {}
    title, subject, body = (title or "").strip(), (subject or "").strip(), (body or "").strip()
    if not title:
        errors["title"] = ["Give the snippet a title."]
    if channel not in SNIPPET_CHANNELS:
        errors["channel"] = ["Email or SMS."]
    if not body:
        errors["body"] = ["Write the text."]
    if "\n" in subject or "\r" in subject:
        errors["subject"] = ["The subject is one line."]
    for field, text in (("subject", subject), ("body", body)):
        problems = template_errors(text)
        if problems:
            errors.setdefault(field, []).extend(problems)
    if errors:
        raise ValidationError(errors)
    return {
        "title": title[:100],
        "channel": channel,
        "subject": subject[:300] if channel == Channel.EMAIL else "",
        "body": body,
    }


def snippet_create(*, by, title: str, channel: str, body: str, subject: str = "") -> Snippet:
    if not _may_manage(by):
        raise PermissionDenied("Only managers and admins keep snippets.")
    return Snippet.objects.create(created_by=by, **_validated(title=title, channel=channel, subject=subject, body=body))


def snippet_update(*, snippet: Snippet, by, title: str, channel: str, body: str, subject: str = "") -> Snippet:
    if not _may_manage(by):
        raise PermissionDenied("Only managers and admins keep snippets.")
    for name, value in _validated(title=title, channel=channel, subject=subject, body=body).items():
        setattr(snippet, name, value)
    snippet.save(update_fields=["title", "channel", "subject", "body"])
    return snippet


def snippet_delete(*, snippet: Snippet, by) -> None:
    if not _may_manage(by):
        raise PermissionDenied("Only managers and admins keep snippets.")
    snippet.delete()


@dataclass(frozen=True)
class StartingPoint:
    """A template a rep may start a message from: "step:<pk>" or "snippet:<pk>"."""

    key: str
    label: str
    subject: str
    body: str


def starting_points_for(*, lead, channel: str) -> list[StartingPoint]:
    """The lead's cadence's steps on `channel` (its running cadence, else its latest), then the snippets."""
    enrollment = (
        Enrollment.objects.filter(lead=lead).order_by("state", "-started_at").select_related("cadence").first()
        if lead is not None
        else None
    )
    points = []
    if enrollment is not None:
        steps = enrollment.cadence.steps.filter(channel=channel, retired_at__isnull=True).order_by("day", "position")
        points += [
            StartingPoint(f"step:{s.pk}", f"{enrollment.cadence.name}: Day {s.day}", s.subject, s.body) for s in steps
        ]
    snippets = Snippet.objects.filter(channel=channel).order_by("title")
    points += [StartingPoint(f"snippet:{s.pk}", f"Snippet: {s.title}", s.subject, s.body) for s in snippets]
    return points


def starting_point_rendered(*, points: list[StartingPoint], key: str, lead, rep) -> tuple[str, str]:
    """The picked template's subject and body for this lead and rep; ValidationError naming an unknown
    merge field (a step saved before the editor checked them)."""
    point = next((p for p in points if p.key == key), None)
    if point is None:
        raise ValidationError({"template": ["That template is not available for this lead."]})
    problems = template_errors(point.subject) + template_errors(point.body)
    if problems:
        raise ValidationError({"template": [f"“{point.label}” cannot be used: {'; '.join(problems)}"]})
    return render_text(point.subject, lead=lead, rep=rep), render_text(point.body, lead=lead, rep=rep)
