"""Merge fields in step templates: "Hi {{ lead.first_name }}, ... {{ rep.first_name }}".

Templates use Django's template syntax with a fixed, small context, so an admin can only
reach the fields listed in MERGE_FIELDS. Unknown fields render empty in sends and are
flagged in the editor.
"""

import functools
import re

from django.template import Context, Engine, Template, TemplateSyntaxError

from leads.phones import phone_display

# The only values a template can see, and where they come from.
MERGE_FIELDS = {
    "lead.first_name": lambda lead, rep: lead.first_name,
    "lead.last_name": lambda lead, rep: lead.last_name,
    "lead.full_name": lambda lead, rep: lead.full_name,
    "lead.company": lambda lead, rep: lead.company,
    "lead.interest": lambda lead, rep: lead.interest,
    "lead.how_heard": lambda lead, rep: lead.how_heard,
    "rep.first_name": lambda lead, rep: rep.first_name if rep else "",
    "rep.last_name": lambda lead, rep: rep.last_name if rep else "",
    "rep.full_name": lambda lead, rep: rep.get_full_name() if rep else "",
    "rep.email": lambda lead, rep: rep.email if rep else "",
    # As a person reads it, like every number we show: (212) 234-7101 in the organisation's region.
    "rep.phone": lambda lead, rep: phone_display(rep.phone) if rep and rep.phone else "",
    "company": lambda lead, rep: _organization_name(),
}

_engine = Engine(autoescape=False, libraries={}, builtins=["django.template.defaultfilters"])
_VARIABLE = re.compile(r"{{\s*([^}|\s]+)\s*(?:\|[^}]*)?}}")


def _organization_name():
    from django.conf import settings

    return settings.ORGANIZATION_NAME


def merge_fields_in(text: str) -> list[str]:
    return _VARIABLE.findall(text or "")


def unknown_merge_fields(text: str) -> list[str]:
    """Fields used in `text` that no lead or rep has: shown as warnings in the editor."""
    return sorted({name for name in merge_fields_in(text) if name not in MERGE_FIELDS})


def template_errors(text: str) -> list[str]:
    """Syntax errors and unknown fields, as messages an admin can act on."""
    errors = []
    try:
        _engine.from_string(text or "")
    except TemplateSyntaxError as exc:
        errors.append(f"Template error: {exc}")
    errors += [f"Unknown merge field {{{{ {name} }}}}" for name in unknown_merge_fields(text)]
    return errors


def _context(lead, rep) -> dict:
    context: dict = {"lead": {}, "rep": {}}
    for name, getter in MERGE_FIELDS.items():
        value = getter(lead, rep) or ""
        if "." in name:
            obj, attr = name.split(".", 1)
            context[obj][attr] = value
        else:
            context[name] = value
    return context


def render_text(text: str, *, lead, rep) -> str:
    """Render a step's subject or body for `lead`, signed by `rep` (may be None)."""
    if not text:
        return ""
    template = _compiled(text)
    if template is None:
        # A broken template must never block a send: the raw text beats nothing.
        return text
    return template.render(Context(_context(lead, rep))).strip()


@functools.lru_cache(maxsize=512)
def _compiled(text: str) -> Template | None:
    """A step's text compiled once per process (Today renders the same few steps for every row)."""
    try:
        return _engine.from_string(text)
    except TemplateSyntaxError:
        return None
