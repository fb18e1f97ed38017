"""Pages under generated query strings (hypothesis): never a 5xx; a bad parameter is a 400 with a message.

Every GET page of the permission matrix (tests/security/test_permission_matrix.py, so pages added
later are covered too) is requested by an anonymous visitor, a rep, a manager and an admin with
query strings built from the parameters the pages read and some they don't: dates at the edges of
the calendar, NUL and control characters, huge and negative numbers, odd Unicode, repeated keys,
broken percent-encoding.
"""

import datetime as dt
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from django import forms
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.selectors import leads_search

from .test_permission_matrix import EXPECTATIONS

GET_PAGES = sorted(name for name, case in EXPECTATIONS.items() if case.method == "get" and name != "logout")
ROLES = ("anonymous", "rep", "manager", "admin")
# Pages that render no form of their own read the filters of another page: the CSV takes the report's.
FILTERS_OF = {"reports:friday_csv": "reports:friday"}

# Parameters every page might read (pagination, searches, Today's limit, the merge page's duplicate,
# the login page's next, the schema's format and language) on top of the fields of the page's own
# forms, which are read from the page itself (see _page_parameters).
GENERIC = ("page", "q", "all", "limit", "duplicate", "next", "format", "lang", "csrfmiddlewaretoken")
# The first and last fortnight of the calendar: a week's neighbours or the day after overflow there.
EXTREME_DATES = st.one_of(
    st.integers(0, 14).map(lambda n: (dt.date.min + dt.timedelta(days=n)).isoformat()),
    st.integers(0, 14).map(lambda n: (dt.date.max - dt.timedelta(days=n)).isoformat()),
)
MALFORMED_DATES = [
    "0000-00-00",
    "10000-01-01",
    "2024-02-30",
    "2024-13-01",
    "1899-12-31",
    "3000-01-01",
    "2024-W01",
    "12/31/9999",
    "31.12.9999",
    "-2024-01-01",
]
EDGE_NUMBERS = [
    "0",
    "-1",
    "1",
    "9" * 25,
    "-" + "9" * 25,
    "9223372036854775807",
    "9223372036854775808",
    "2147483648",
    "1e308",
    "NaN",
    "inf",
    "0x10",
    "1.5",
    " 1",
    "\uff11",  # fullwidth digit one
    "\u0661",  # Arabic-Indic one
]
EDGE_TEXT = [
    "",
    "\x00",
    "a\x00b",
    "#\x00",
    "\x01\x07\x1b[31m",
    "\t\r\n",
    "#",
    "#1",
    "#" + "9" * 30,
    "\u202eesreveR",
    "\U0001f600\u200d\U0001f469",
    "e\u0301\u0301\u0301",
    "\ufeff\u200b",
    "\U0010ffff",
    "\ufffd",
    "'; DROP TABLE leads_lead; --",
    "<script>alert(1)</script>",
    "%",
    "x" * 5000,
    "(415) 555-0100",
    "+" + "1" * 40,
    "javascript:alert(1)",
    "//evil.example/",
]
# Raw query strings as a browser or a script might send them: unencoded, half-encoded, invalid UTF-8.
RAW = ["%", "%ZZ", "week=%FF%FE", "q=%ED%A0%80", "week&week=&=x", "q=%C0%AF", ";;;", "a=1;b=2", "q=%00"]

dates = st.one_of(EXTREME_DATES, st.dates().map(dt.date.isoformat), st.sampled_from(MALFORMED_DATES))
numbers = st.one_of(st.sampled_from(EDGE_NUMBERS), st.integers().map(str))
texts = st.one_of(st.sampled_from(EDGE_TEXT), st.text(max_size=30))


def _world_ids(world) -> list[str]:
    users = [user for user in world.users.values() if user is not None]
    ids = {world.lead.pk, world.charlie_lead.pk, world.bob_lead.pk, *(u.pk for u in users)}
    ids |= {u.team_id for u in users if u.team_id}
    return sorted(str(pk) for pk in ids)


class _GetFormFields(HTMLParser):
    """The names of the fields of the page's GET forms (a search box written by hand, say)."""

    def __init__(self):
        super().__init__()
        self.names, self._in_get_form = set(), False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._in_get_form = (attrs.get("method") or "get").lower() == "get"
        elif self._in_get_form and tag in ("input", "select", "textarea") and attrs.get("name"):
            self.names.add(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_get_form = False


def _page_parameters(client, path) -> dict[str, forms.Field | None]:
    """What the page asks for: the fields of every form it renders (typed) and of its GET forms, by name."""
    response = client.get(path)
    found = {}
    if response.get("Content-Type", "").startswith("text/html"):
        fields = _GetFormFields()
        fields.feed(response.content.decode())
        found = dict.fromkeys(fields.names)
    contexts = response.context if isinstance(response.context, list) else [response.context]
    for context in filter(None, contexts):
        for value in context.flatten().values():
            if isinstance(value, forms.BaseForm):
                found.update(value.fields)
    return found


def weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of the strategies, each drawn in proportion to its weight (st.one_of draws them evenly)."""
    table = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(table) - 1).flatmap(lambda i: table[i])


def _values_for(field: forms.Field | None, ids: list[str]):
    anything = st.one_of(dates, numbers, texts, st.sampled_from(ids))
    if isinstance(field, forms.DateField):
        typed = dates
    elif isinstance(field, forms.ModelChoiceField | forms.IntegerField):
        typed = st.one_of(numbers, st.sampled_from(ids))
    elif isinstance(field, forms.ChoiceField):
        typed = st.one_of(st.sampled_from([str(value) for value, _ in field.choices] or [""]), texts)
    else:
        typed = st.one_of(texts, numbers, st.sampled_from(ids))
    # Mostly values of the parameter's own type, sometimes any value at all.
    return weighted((3, typed), (1, anything))


def _query_strings(parameters: dict[str, forms.Field | None], ids: list[str]):
    own = sorted(parameters)
    # Mostly the page's own parameters, then the generic ones, then any name at all.
    name = weighted(
        (6 if own else 0, st.sampled_from(own or [""])), (3, st.sampled_from(GENERIC)), (1, st.text(max_size=8))
    )
    pair = name.flatmap(lambda key: st.tuples(st.just(key), _values_for(parameters.get(key), ids)))
    # Repeated keys included: the same name may be drawn twice.
    encoded = st.lists(pair, min_size=1, max_size=4).map(
        lambda items: "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in items)
    )
    raw = st.sampled_from(RAW)
    return weighted((8, encoded), (1, raw), (1, st.tuples(encoded, raw).map("&".join)))


def _path(name, world) -> str:
    case = EXPECTATIONS[name]
    return reverse(name, kwargs=case.kwargs(world) if case.kwargs else {})


@pytest.fixture
def clients(world):
    made = {}
    for role in ROLES:
        made[role] = Client()
        if world.users[role] is not None:
            made[role].force_login(world.users[role])
    return made


@pytest.mark.parametrize("name", GET_PAGES)
def test_no_generated_query_string_gives_a_5xx(name, world, clients):
    path = _path(name, world)
    parameters = _page_parameters(clients["admin"], _path(FILTERS_OF.get(name, name), world))
    queries = _query_strings(parameters, _world_ids(world))

    @settings(
        max_examples=80,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(role=st.sampled_from(ROLES), query=queries)
    def check(role, query):
        response = clients[role].get(path, QUERY_STRING=query)
        assert response.status_code < 500, f"{role} GET {path}?{query} -> {response.status_code}"
        if response.status_code == 400:
            assert b"Traceback" not in response.content

    check()


# --- The 500s the issue names, and the answer each gets now ---------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "/reports/friday/?week=9999-12-31",
        "/reports/friday/?week=0001-01-01",
        "/reports/friday.csv?week=9999-12-31",
        "/reports/friday.csv?week=0001-01-01",
        "/reports/compliance/?date_to=9999-12-31",
        "/reports/speed/?date_to=9999-12-31",
        "/reports/converts/?date_to=9999-12-31",
        "/reports/coverage/?date_from=0001-01-01",
    ],
)
def test_a_report_day_outside_the_calendar_is_a_400_with_the_filter_form(client_for, manager, query):
    response = client_for(manager).get(query)
    assert response.status_code == 400
    html = response.content.decode()
    # The product's page (navigation, the report's tabs), the filters again, the message by the field.
    assert 'class="navbar' in html and 'id="report-filters"' in html
    assert "This report can't be shown for these filters" in html
    assert "Pick a day between January 1, 1900 and December 31, 2999." in html


@pytest.mark.parametrize(
    "query, message",
    [
        ("/reports/friday/?week=not-a-day", "Enter a date as YYYY-MM-DD."),
        ("/reports/compliance/?date_from=2026-06-02&date_to=2026-06-01", "The end date is before the start date."),
    ],
)
def test_a_malformed_report_filter_is_a_400_naming_the_problem(client_for, rep, query, message):
    response = client_for(rep).get(query)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_first_and_last_report_days_still_show_a_report(client_for, manager):
    client = client_for(manager)
    assert client.get("/reports/friday/?week=1900-01-01").status_code == 200
    assert client.get("/reports/friday/?week=2999-12-31").status_code == 200
    assert client.get("/reports/speed/?date_from=1900-01-01&date_to=2999-12-31").status_code == 200


def test_a_nul_in_the_merge_search_is_a_400_with_a_message(client_for, manager, world):
    response = client_for(manager).get(f"/leads/{world.lead.pk}/merge/", {"q": "Bart\x00"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "The search contains a null character" in html
    assert 'class="navbar' in html


def test_the_lead_search_ignores_a_nul(rep, world):
    # The lead list's form refuses it; the selector never sends one to the database either.
    assert list(leads_search(user=rep, q="Aurelianna\x00")) == [world.lead]
