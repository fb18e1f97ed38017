"""`manage.py seed_bench` for runs by hand, with the bench settings (the only ones that install
`bench`): `DJANGO_SETTINGS_MODULE=bench.settings python manage.py seed_bench --leads N`. See bench/seed.py."""

from django.core.management.base import BaseCommand

from bench.seed import seed_bench


class Command(BaseCommand):
    help = "Generate benchmark data in bulk (leads, enrolments, touches, messages)."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, required=True, help="Target number of bench leads (adds the gap).")
        parser.add_argument("--touches-per-lead", type=int, default=10)
        parser.add_argument("--reset", action="store_true", help="Delete every bench lead first.")
        parser.add_argument("--due-now", type=int, default=0, help="Also add this many automated touches due now.")
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, **options):
        seed_bench(
            leads=options["leads"],
            touches_per_lead=options["touches_per_lead"],
            reset=options["reset"],
            due_now=options["due_now"],
            seed=options["seed"],
            stdout=self.stdout,
        )
