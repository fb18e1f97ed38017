"""Who changed what: change lists built from django-simple-history records for the history pages.

Each record is compared with the previous record of the same object in memory (no query per
row); foreign keys are shown by name, looked up in one query per related model.
"""

from dataclasses import dataclass, field

from django.db.models import Model

# Bookkeeping columns that change on every save and say nothing to a reader.
HIDDEN_FIELDS = {"id", "updated_at", "created_at"}
CHANGE_KINDS = {"+": "Created", "~": "Changed", "-": "Deleted"}


@dataclass
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    at: object
    user: object
    kind: str
    subject: str
    changes: list[FieldChange] = field(default_factory=list)


def _display(value, field, names) -> str:
    if value is None or value == "":
        return "—"
    if field.is_relation:
        return names.get((field.related_model, value), f"#{value}")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _related_names(records, fields) -> dict:
    """{(model, pk): str(obj)} for every foreign key value in `records`: one query per related model."""
    wanted: dict[type[Model], set] = {}
    for f in fields:
        if f.is_relation and f.related_model is not None:
            ids = {getattr(r, f.attname) for r in records} - {None}
            if ids:
                wanted.setdefault(f.related_model, set()).update(ids)
    names = {}
    for model, ids in wanted.items():
        for obj in model._default_manager.filter(pk__in=ids):
            names[(model, obj.pk)] = str(obj)
    return names


def history_entries(records, *, subject=lambda record: "") -> list[HistoryEntry]:
    """History entries for `records` (historical rows of one or more objects), newest first.

    `subject(record)` names the object a row is about (a cadence page lists its steps' changes too).
    """
    records = sorted(records, key=lambda r: (r.history_date, r.history_id))
    if not records:
        return []
    model = records[0].instance_type
    fields = [f for f in model._meta.concrete_fields if f.name not in HIDDEN_FIELDS]
    names = _related_names(records, fields)
    previous: dict = {}
    entries = []
    for record in records:
        key = (type(record), record.id)
        before = previous.get(key)
        changes = []
        if record.history_type == "~" and before is None:
            # The oldest row of a truncated history: what it changed is not known.
            previous[key] = record
            continue
        if record.history_type == "~":
            for f in fields:
                old, new = getattr(before, f.attname), getattr(record, f.attname)
                if old != new:
                    changes.append(FieldChange(str(f.verbose_name), _display(old, f, names), _display(new, f, names)))
            if not changes:
                previous[key] = record
                continue  # a save that changed only bookkeeping columns
        elif record.history_type == "+":
            for f in fields:
                value = getattr(record, f.attname)
                if value not in (None, "", False):
                    changes.append(FieldChange(str(f.verbose_name), "", _display(value, f, names)))
        previous[key] = record
        entries.append(
            HistoryEntry(
                at=record.history_date,
                user=record.history_user,
                kind=CHANGE_KINDS.get(record.history_type, record.history_type),
                subject=subject(record),
                changes=changes,
            )
        )
    entries.reverse()
    return entries
