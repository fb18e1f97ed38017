from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class LeadFollowConfig(AppConfig):
    """The project itself as an app: what spans the product apps (the periodic schedules) lives here."""

    name = "leadfollow"
    verbose_name = "LeadFollow"

    def ready(self):
        # schedules imports django-celery-beat's models, which exist only once the registry is ready.
        from leadfollow.schedules import schedules_sync_after_migrate

        post_migrate.connect(
            schedules_sync_after_migrate,
            sender=apps.get_app_config("django_celery_beat"),
            dispatch_uid="leadfollow.schedules_sync",
        )
