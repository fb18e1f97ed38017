from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from leadfollow.schedules import schedules_sync


class Command(BaseCommand):
    help = (
        "Create the periodic tasks declared in leadfollow/schedules.py in django-celery-beat's tables "
        "(also done after every migrate). Schedules edited in the admin stay as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Database to sync (default: default).")

    def handle(self, *args, **options):
        for line in schedules_sync(using=options["database"]) or ["Periodic tasks already in sync."]:
            self.stdout.write(line)
