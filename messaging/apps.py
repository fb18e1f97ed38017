from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self):
        from anymail.signals import tracking

        # Here, not at the top: services import models, which the app registry loads only before ready().
        from messaging.services import on_anymail_tracking

        # Bounces and complaints from any ESP's tracking webhook mark the address (dispatch_uid: once).
        tracking.connect(on_anymail_tracking, dispatch_uid="messaging.email_tracking")
