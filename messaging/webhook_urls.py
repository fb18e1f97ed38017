from anymail.webhooks.mailgun import MailgunInboundWebhookView, MailgunTrackingWebhookView
from django.urls import path

from messaging import webhook_views

app_name = "webhooks"
urlpatterns = [
    path("twilio/sms/", webhook_views.twilio_inbound_sms, name="twilio_sms"),
    path("twilio/status/", webhook_views.twilio_status_callback, name="twilio_status"),
    # Mailgun through django-anymail: its views check Mailgun's signature (settings.ANYMAIL), are
    # CSRF-exempt and send anymail's signals, tracking (messaging/apps.py) and inbound (leadfollow/apps.py).
    # Only ESPs we configure are mounted: anymail's others trust basic auth alone (one secret shared by
    # all, so they would take unsigned events past Mailgun's signature) or 500 without their keys.
    path("anymail/mailgun/tracking/", MailgunTrackingWebhookView.as_view(), name="mailgun_tracking"),
    # Mailgun posts the message as it came ("body-mime") to a route URL ending in "mime": the one to use.
    path("anymail/mailgun/inbound_mime/", MailgunInboundWebhookView.as_view(), name="mailgun_inbound_mime"),
    # Mailgun's parsed fields (headers as JSON, text and html bodies); anymail rebuilds a message.
    path("anymail/mailgun/inbound/", MailgunInboundWebhookView.as_view(), name="mailgun_inbound"),
]
