from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self):
        from anymail.signals import tracking

        # Here, not at the top: services import models, which the app registry loads only before ready().
        from messaging.services import on_anymail_tracking, on_provider_message_id_recorded
        from messaging.signals import provider_message_id_recorded

        # Bounces and complaints from any ESP's tracking webhook mark the address (dispatch_uid: once).
        tracking.connect(on_anymail_tracking, dispatch_uid="messaging.email_tracking")
        # Status callbacks that came before their text's id was recorded are applied when it is.
        provider_message_id_recorded.connect(
            on_provider_message_id_recorded, dispatch_uid="messaging.early_status_callbacks"
        )
