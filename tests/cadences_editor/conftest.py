import pytest

from cadences.models import Channel
from tests import factories


@pytest.fixture
def admin_client(client_for, admin_user):
    return client_for(admin_user)


@pytest.fixture
def cadence(db):
    return factories.CadenceFactory(name="Web follow-up", description="For web leads")


@pytest.fixture
def email_step(cadence):
    return factories.CadenceStepFactory(
        cadence=cadence,
        day=1,
        position=0,
        channel=Channel.EMAIL,
        automated=True,
        subject="Hello {{ lead.first_name }}",
        body="Hi {{ lead.first_name }}, thanks for asking about {{ lead.interest }}. {{ rep.first_name }}",
        talking_points="Confirm their need.",
    )


@pytest.fixture
def call_step(cadence):
    return factories.CadenceStepFactory(cadence=cadence, day=1, position=1, channel=Channel.CALL)


def step_data(**overrides):
    """POST data for a valid manual call step."""
    data = {
        "day": "2",
        "channel": "call",
        "send_hour": "10",
        "subject": "",
        "body": "",
        "talking_points": "Share the customer story about faster booking.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
