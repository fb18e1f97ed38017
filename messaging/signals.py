"""Signals messaging's lower modules send to the ones above them (a module never imports one above it).

`provider_message_id_recorded(sid=...)`: dispatch recorded a provider's id on a touch and its
Message (messaging/dispatch.py, step 3), inside the recording transaction. Receiver:
messaging.services.on_provider_message_id_recorded, which applies the Twilio status callbacks that
arrived before the id was recorded (connected in MessagingConfig.ready).
"""

from django.dispatch import Signal

provider_message_id_recorded = Signal()
