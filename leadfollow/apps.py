from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class LeadFollowConfig(AppConfig):
    """The project itself as an app: what spans the product apps (the periodic schedules) lives here."""

    name = "leadfollow"
    verbose_name = "LeadFollow"

    def ready(self):
        from anymail.signals import inbound

        # schedules imports django-celery-beat's models, which exist only once the registry is ready.
        from leadfollow.schedules import schedules_sync_after_migrate
        from reactions.inbound_email_webhook import on_anymail_inbound

        post_migrate.connect(
            schedules_sync_after_migrate,
            sender=apps.get_app_config("django_celery_beat"),
            dispatch_uid="leadfollow.schedules_sync",
        )
        # Emails from a provider's inbound webhook: here, not in messaging, which may not import reactions.
        inbound.connect(on_anymail_inbound, dispatch_uid="reactions.inbound_email_webhook")
