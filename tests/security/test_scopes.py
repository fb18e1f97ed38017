"""Lists, reports and CSV exports leak nothing: a rep sees only their own leads, a manager only their teams'.

Every parameterless GET page of the permission matrix (so every list, report and export, including
pages added later) is fetched by each role, plainly and with filters pointing at the other team,
and must not contain the name of a lead that role may not see.
"""

import pytest
from django.urls import reverse

from .conftest import ALICE_LEAD, BOB_LEAD, CHARLIE_LEAD
from .test_permission_matrix import EXPECTATIONS, OK

VISIBLE = {
    "rep": {ALICE_LEAD},
    "teammate": {BOB_LEAD},
    "other_rep": {CHARLIE_LEAD},
    "manager": {ALICE_LEAD, BOB_LEAD},
    "other_manager": {CHARLIE_LEAD},
    "admin": {ALICE_LEAD, BOB_LEAD, CHARLIE_LEAD},
}
ALL_LEADS = {ALICE_LEAD, BOB_LEAD, CHARLIE_LEAD}
LIST_PAGES = sorted(
    name for name, case in EXPECTATIONS.items() if case.method == "get" and case.kwargs is None and name != "logout"
)


def _hostile_filters(world, role) -> dict:
    """Filters naming the people and team the role may not see."""
    outsider = world.users["other_rep"] if role in ("rep", "teammate", "manager") else world.users["rep"]
    return {
        "owner": outsider.pk,
        "rep": outsider.pk,
        "team": outsider.team_id,
        "q": "",
        "status": "",
        "date_from": "2000-01-01",
        "date_to": "2100-01-01",
    }


@pytest.mark.parametrize("name", LIST_PAGES)
def test_pages_show_no_lead_of_others(name, world, client_for):
    leaks = []
    for role, visible in VISIBLE.items():
        if EXPECTATIONS[name].expected[role] != OK:
            continue
        client = client_for(world.users[role])
        url = reverse(name)
        for params in ({}, _hostile_filters(world, role)):
            response = client.get(url, params)
            assert response.status_code < 500
            body = b"".join(response) if response.streaming else response.content
            shown = {lead for lead in ALL_LEADS if lead in body.decode(errors="replace")}
            if shown - visible:
                leaks.append(f"{role} {url}?{params}: {sorted(shown - visible)}")
    assert not leaks, "\n".join(leaks)


def test_the_list_pages_do_show_what_each_role_may_see(world, client_for):
    """The leak check above is only meaningful if the names do appear where they should."""
    for role, visible in VISIBLE.items():
        page = client_for(world.users[role]).get("/leads/").content.decode()
        assert {lead for lead in ALL_LEADS if lead in page} == visible, role
    team = client_for(world.users["manager"]).get("/today/team/").content.decode()
    assert "Alice" in team and "Charlie" not in team


@pytest.mark.parametrize("who", ["rep", "teammate", "manager"])
def test_searching_for_another_teams_lead_finds_nothing(world, client_for, who):
    client = client_for(world.users[who])
    for q in ("Cassiopeia", "Wrenholt", world.charlie_lead.phone, world.charlie_lead.email):
        page = client.get("/leads/", {"q": q}).content.decode()
        assert CHARLIE_LEAD not in page


def test_merge_candidates_offer_no_lead_of_another_team(world, client_for, manager):
    client = client_for(manager)
    for q in (f"#{world.charlie_lead.pk}", "Cassiopeia"):
        page = client.get(f"/leads/{world.lead.pk}/merge/", {"q": q}).content.decode()
        assert CHARLIE_LEAD not in page
    response = client.get(f"/leads/{world.lead.pk}/merge/", {"duplicate": world.charlie_lead.pk})
    assert response.status_code == 404


def _body(response) -> str:
    return (b"".join(response) if response.streaming else response.content).decode()


def test_the_friday_csv_of_a_manager_has_only_their_team(world, client_for, manager, other_manager):
    url = reverse("reports:friday_csv")
    for user, mine, theirs, their_team in (
        (manager, ALICE_LEAD, CHARLIE_LEAD, world.charlie_lead.team_id),
        (other_manager, CHARLIE_LEAD, ALICE_LEAD, world.lead.team_id),
    ):
        client = client_for(user)
        body = _body(client.get(url))
        assert mine in body
        assert theirs not in body
        response = client.get(url, {"team": their_team})
        assert response.status_code in (200, 400, 404)
        assert theirs not in _body(response)
