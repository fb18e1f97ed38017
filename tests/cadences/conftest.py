import pytest

from cadences.models import Cadence


@pytest.fixture
def reference_cadence(db):
    """The shipped default cadence (created by the data migration)."""
    return Cadence.objects.get(is_default=True)
