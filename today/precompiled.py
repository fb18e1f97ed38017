"""Queries the Today page runs on every load, their SQL built by the ORM once per process.

Django builds a query's SQL anew each time it runs. For the page's two big queries (the ranking
with its counters, and the rows with their subqueries) that was ~20 ms of a ~90 ms page at 1M
touches: as long as the database took to answer them. A `Precompiled` query is built by the ORM
twice, with two sets of stand-in values; the parameters that differ between the two are exactly
the places of the request's values. Its SQL is kept, and each request puts its own values there.
The SQL is the ORM's own: tests/today/test_precompiled.py compares it with a fresh build.

Not kept, built anew each time as before: a query whose SQL text changes with the values, whose
parameters do not hold the stand-ins as given (a backend that converts them, as SQLite does
datetimes), or whose build refuses them.
"""

import copy
import datetime as dt
import functools
import threading
from collections.abc import Callable

from django.db import connections
from django.db.models import QuerySet

# Enough for every page length in use; a process that sees more starts over.
MAX_SHAPES = 64
_NOT_KEPT = object()


class Precompiled:
    """`build(**values)` -> a QuerySet; `key()`: whatever else its SQL depends on (settings)."""

    def __init__(self, build: Callable[..., QuerySet], key: Callable[[], tuple] = tuple):
        self._build = build
        self._key = key
        self._kept: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def sql_with_params(self, **values) -> tuple[str, tuple]:
        kept = self._kept_for(values)
        if kept is _NOT_KEPT:
            return self._build(**values).query.sql_with_params()
        return kept.sql, kept.params_for(values)

    def objects(self, **values) -> list:
        """The query's rows for `values`: model instances with their select_related objects and
        annotations, as the ORM makes them. A list, not a QuerySet: a chained filter would not
        change the kept SQL."""
        kept = self._kept_for(values)
        if kept is _NOT_KEPT:
            return list(self._build(**values))
        return list(kept.queryset(kept.params_for(values)))

    def _kept_for(self, values: dict):
        shape = (self._key(), *((name, _shape(value)) for name, value in sorted(values.items())))
        kept = self._kept.get(shape)
        if kept is None:
            kept = _Kept.build(self._build, values)
            with self._lock:
                if len(self._kept) >= MAX_SHAPES:
                    self._kept.clear()
                self._kept[shape] = kept
        return kept


class _Kept:
    def __init__(self, template: QuerySet, compiler, sql: str, params: tuple, slots: list):
        self.template, self.compiler, self.sql, self.params, self.slots = template, compiler, sql, params, slots

    @classmethod
    def build(cls, build: Callable[..., QuerySet], values: dict):
        try:
            first, second = _stand_ins(values, 1), _stand_ins(values, 2)
            template = build(**_values(first))
            compiler = template.query.get_compiler(using=template.db)
            sql, params = compiler.as_sql()
            other_sql, other_params = build(**_values(second)).query.sql_with_params()
        except (TypeError, ValueError):
            return _NOT_KEPT  # a build that refuses the stand-ins (a negative slice, a value of another type)
        if sql != other_sql or len(params) != len(other_params):
            return _NOT_KEPT
        place_of = {stand_in: place for place, stand_in in first.items()}
        slots = []
        for index, (one, two) in enumerate(zip(params, other_params, strict=True)):
            if _same(one, two):
                continue
            place = place_of.get(one) if _hashable(one) else None
            if place is None or not _same(second[place], two):
                return _NOT_KEPT  # a value converted on its way in: its place cannot be told
            slots.append((index, place))
        if {place for _, place in slots} != set(first):
            return _NOT_KEPT  # a value used other than as a parameter
        return cls(template, compiler, sql, tuple(params), slots)

    def params_for(self, values: dict) -> tuple:
        params = list(self.params)
        for index, (name, position) in self.slots:
            value = values[name]
            params[index] = value[position] if position is not None else value
        return tuple(params)

    def queryset(self, params: tuple) -> QuerySet:
        query = copy.copy(self.template.query)
        query.get_compiler = functools.partial(self._compiler, params)
        return QuerySet(model=self.template.model, query=query, using=self.template.db)

    def _compiler(self, params: tuple, using=None, connection=None, elements=()):
        # A copy of the compiler that built the SQL: it knows the columns, the select_related
        # objects and the annotations of each row, and answers with this request's parameters.
        compiler = copy.copy(self.compiler)
        compiler.connection = connection or connections[using or self.template.db]
        compiler.as_sql = lambda *args, **kwargs: (self.sql, params)
        return compiler


def _shape(value) -> object:
    return len(value) if isinstance(value, list | tuple) else type(value).__name__


def _stand_ins(values: dict, which: int) -> dict[tuple[str, int | None], object]:
    """Values no request has, by place ((name, None), or (name, i) for a list's items): negative
    ids, moments in 1901 and 1902."""
    stand_ins = {}
    serial = 0
    for name, value in sorted(values.items()):
        items = list(enumerate(value)) if isinstance(value, list | tuple) else [(None, value)]
        for position, item in items:
            serial += 1
            stand_ins[(name, position)] = _stand_in(item, which, serial)
    return stand_ins


def _stand_in(value, which: int, serial: int):
    if isinstance(value, dt.datetime):
        return dt.datetime(1900 + which, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=serial)
    if isinstance(value, int) and not isinstance(value, bool):
        return -(which * 1_000_000_000 + serial)
    raise TypeError(f"no stand-in for a {type(value).__name__}")


def _values(stand_ins: dict) -> dict:
    values: dict = {}
    for (name, position), stand_in in stand_ins.items():
        if position is None:
            values[name] = stand_in
        else:
            values.setdefault(name, []).append(stand_in)
    return values


def _same(one, two) -> bool:
    return type(one) is type(two) and one == two


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
