"""Today's big queries are built by the ORM once per process (today.precompiled): what a request
runs is exactly what a fresh build with its values would run."""

import datetime as dt

import pytest
from django.db import connection

from cadences.models import Touch
from today import selectors
from today.precompiled import _NOT_KEPT, Precompiled

pytestmark = pytest.mark.django_db

MOMENTS = [dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC), dt.datetime(2027, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)]


def _kept_on_postgresql(precompiled: Precompiled) -> None:
    kept = list(precompiled._kept.values())
    assert kept
    if connection.vendor == "postgresql":
        assert all(k is not _NOT_KEPT for k in kept)  # else the page pays for the build again


def test_ranking_sql_is_a_fresh_builds_for_each_rep_and_moment(rep, other_rep):
    for user in (rep, other_rep):
        for now in MOMENTS:
            end = now + dt.timedelta(hours=7)
            fresh = selectors._ranked_with_counts(rep_id=user.pk, end=end, now=now).query.sql_with_params()
            assert selectors._RANKED.sql_with_params(rep_id=user.pk, end=end, now=now) == fresh
    _kept_on_postgresql(selectors._RANKED)


def test_rows_are_the_orms_instances_with_their_relations_and_annotations(rep, make_task):
    tasks = [make_task(rep, due=dt.timedelta(minutes=i)) for i in range(4)]
    for ids in ([tasks[0].pk], [t.pk for t in tasks], [tasks[2].pk, tasks[1].pk, 10**9]):
        got, want = selectors._ROWS.objects(ids=ids), list(selectors._rows(ids=ids))
        assert [t.pk for t in got] == [t.pk for t in want]
        for a, b in zip(got, want, strict=True):
            assert a.__dict__.keys() == b.__dict__.keys()
            for name in ("due_at", "is_instant", "late_at", "last_outcome", "next_channel", "next_due_at"):
                assert getattr(a, name) == getattr(b, name), name
            assert a._state.fields_cache.keys() == b._state.fields_cache.keys()  # select_related: no extra query
            assert (a.lead.full_name, a.step_id, a.assigned_to) == (b.lead.full_name, b.step_id, b.assigned_to)
    _kept_on_postgresql(selectors._ROWS)


def test_a_changed_setting_is_a_new_shape(rep, settings):
    now = MOMENTS[0]
    before = selectors._RANKED.sql_with_params(rep_id=rep.pk, end=now, now=now)
    settings.INSTANT_CALL_TARGET_MINUTES += 7
    after = selectors._RANKED.sql_with_params(rep_id=rep.pk, end=now, now=now)
    assert after == selectors._ranked_with_counts(rep_id=rep.pk, end=now, now=now).query.sql_with_params()
    assert after != before


def test_a_query_whose_sql_text_follows_the_values_is_built_anew(rep, make_task):
    tasks = [make_task(rep, due=dt.timedelta(minutes=i)) for i in range(3)]

    def first(*, count: int):  # a slice is written into the SQL, not passed as a parameter
        return Touch.objects.order_by("id")[:count]

    precompiled = Precompiled(first)
    assert [t.pk for t in precompiled.objects(count=2)] == [t.pk for t in tasks[:2]]
    assert [t.pk for t in precompiled.objects(count=3)] == [t.pk for t in tasks]
    assert set(precompiled._kept.values()) == {_NOT_KEPT}
