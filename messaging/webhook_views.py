"""Provider webhooks (Twilio inbound SMS and status callbacks) and the one-click unsubscribe page.

No login and no CSRF: Twilio proves itself with X-Twilio-Signature, an unsubscribe link with its
signed token. Writes happen in messaging/services.py and reactions/inbound_sms.py.
"""

import logging
from xml.sax.saxutils import escape

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from twilio.request_validator import RequestValidator

from leads.models import Lead
from messaging import services
from messaging.suppressions import address_suppressed
from messaging.unsubscribe import lead_id_for_target, unsubscribe_target
from reactions.inbound_sms import inbound_sms_receive

log = logging.getLogger(__name__)


def twilio_signature_valid(request) -> bool:
    """Check X-Twilio-Signature against the public URL (PUBLIC_BASE_URL + path: works behind a proxy)."""
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"
    return RequestValidator(token).validate(url, request.POST.dict(), signature)


def _twiml(reply: str = "") -> HttpResponse:
    if reply:
        body = f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(reply)}</Message></Response>'
    else:
        body = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    return HttpResponse(body, content_type="text/xml")


@csrf_exempt
@require_POST
def twilio_inbound_sms(request):
    if not twilio_signature_valid(request):
        log.warning("inbound SMS webhook with a bad or missing signature from %s", request.META.get("REMOTE_ADDR"))
        return HttpResponseForbidden("invalid signature")
    sid = (request.POST.get("MessageSid", "") or request.POST.get("SmsSid", "")).strip()
    if not sid:
        # Twilio always sends one; without it a redelivery could not be told from a new text, so
        # it is refused rather than processed on every delivery (README "Guarantees", Duplicates).
        return HttpResponseBadRequest("MessageSid is required")
    result = inbound_sms_receive(
        sid=sid,
        from_number=request.POST.get("From", ""),
        to_number=request.POST.get("To", ""),
        body=request.POST.get("Body", ""),
    )
    return _twiml(result.reply)


@csrf_exempt
@require_POST
def twilio_status_callback(request):
    if not twilio_signature_valid(request):
        return HttpResponseForbidden("invalid signature")
    services.message_status_record(
        sid=request.POST.get("MessageSid", "") or request.POST.get("SmsSid", ""),
        status=request.POST.get("MessageStatus", "") or request.POST.get("SmsStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request, token):
    """GET: a page with a confirm button. POST: unsubscribe (RFC 8058 one-click posts here too).

    The link unsubscribes the address it was sent to (messaging/unsubscribe.py), also once its lead
    has another address or is gone (merged, deleted): the person's word holds for their address.
    """
    target = unsubscribe_target(token)
    if target is None:
        return render(request, "messaging/unsubscribe_invalid.html", status=400)
    lead_id = lead_id_for_target(target)
    lead = Lead.objects.filter(pk=lead_id).first() if lead_id else None
    context = {"email": target.email, "organization": settings.ORGANIZATION_NAME}
    if request.method == "POST":
        services.email_address_opt_out(address=target.email, source="unsubscribe link", lead=lead)
        return render(request, "messaging/unsubscribe_done.html", context)
    context["already"] = address_suppressed("email", target.email) or bool(lead and lead.email_opt_out)
    return render(request, "messaging/unsubscribe.html", context)
