from django.urls import path

from messaging import webhook_views

app_name = "webhooks"
urlpatterns = [
    path("twilio/sms/", webhook_views.twilio_inbound_sms, name="twilio_sms"),
    path("twilio/status/", webhook_views.twilio_status_callback, name="twilio_status"),
]
