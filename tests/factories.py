import datetime

import factory
from django.utils import timezone as dj_timezone

from accounts.models import Role, Team, User
from cadences.models import Cadence, CadenceStep, Channel, Enrollment, Touch, TouchStatus
from leads.models import Contact, Lead, LeadEvent, LeadSource, LeadStatus

PASSWORD = "test-password-123"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.REP
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class LeadSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadSource
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Source {n}")


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    phone = factory.Sequence(lambda n: f"+1415555{n % 10000:04d}")
    email = factory.Sequence(lambda n: f"lead{n}@example.org")
    company = factory.Faker("company")
    status = LeadStatus.NEW
    timezone = "America/Los_Angeles"
    created_at = factory.LazyFunction(dj_timezone.now)
    owner = None
    team = factory.LazyAttribute(lambda o: o.owner.team if o.owner else None)


class LeadEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadEvent

    lead = factory.SubFactory(LeadFactory)
    kind = LeadEvent.Kind.NOTE
    text = factory.Faker("sentence")
    created_at = factory.LazyFunction(dj_timezone.now)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    phone = factory.Sequence(lambda n: f"+1312555{n % 10000:04d}")
    email = factory.Sequence(lambda n: f"customer{n}@example.net")


class CadenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cadence

    name = factory.Sequence(lambda n: f"Cadence {n}")


class CadenceStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CadenceStep

    cadence = factory.SubFactory(CadenceFactory)
    day = 1
    channel = Channel.CALL
    talking_points = "Re-emphasize the value we discussed."


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    lead = factory.SubFactory(LeadFactory)
    cadence = factory.SubFactory(CadenceFactory)
    started_at = factory.LazyFunction(dj_timezone.now)


class TouchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touch

    lead = factory.SubFactory(LeadFactory)
    channel = Channel.CALL
    automated = False
    assigned_to = factory.LazyAttribute(lambda o: o.lead.owner)
    due_at = factory.LazyFunction(lambda: dj_timezone.now() - datetime.timedelta(minutes=5))
    status = TouchStatus.SCHEDULED
