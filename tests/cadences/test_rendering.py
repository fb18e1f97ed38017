"""Merge fields (cadences.rendering): a rep's number reads as the lead would dial it."""

import pytest

from cadences.rendering import render_text
from tests.factories import LeadFactory, UserFactory


@pytest.mark.parametrize(
    ("region", "stored", "shown"),
    [("US", "+12122347101", "(212) 234-7101"), ("US", "+442079460958", "+44 20 7946 0958"), ("US", "", "none")],
)
def test_the_reps_phone_is_shown_as_a_person_reads_it(db, settings, region, stored, shown):
    settings.PHONE_DEFAULT_REGION = region
    rep = UserFactory(phone=stored)
    text = "My direct line: {{ rep.phone|default:'none' }}."
    assert render_text(text, lead=LeadFactory(), rep=rep) == f"My direct line: {shown}."
