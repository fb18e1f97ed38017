"""Web-to-lead API: `POST /api/leads/`, authenticated by a lead source's API key.

A website (or any form backend) posts an inquiry; it goes through `lead_intake` like every
other intake path, so duplicates land on the open lead and owners are picked round-robin.
"""

import hashlib
import json

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from intake.api_parsers import JSONParser
from intake.throttling import BucketState, TokenBucket
from leads.models import IdempotencyRecord, LeadSource
from leads.services.api_keys import lead_source_for_api_key
from reactions.intake import lead_intake

API_KEY_KEYWORD = "Api-Key"
IDEMPOTENCY_KEY_MAX_LENGTH = 255


# --- Authentication, permission, throttle ----------------------------------------------------


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key <key>` → request.auth is the LeadSource (request.user stays anonymous)."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != API_KEY_KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use `Api-Key <key>`.")
        try:
            raw_key = parts[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        source = lead_source_for_api_key(raw_key)
        if source is None:
            raise exceptions.AuthenticationFailed("Invalid, revoked or inactive API key.")
        return (AnonymousUser(), source)

    def authenticate_header(self, request):
        # A value here makes DRF answer 401 (not 403) to missing or bad credentials.
        return API_KEY_KEYWORD


class HasLeadSource(BasePermission):
    message = "Authenticate with `Authorization: Api-Key <key>`."

    def has_permission(self, request, view):
        return isinstance(request.auth, LeadSource)


# Settings are read on each request, so an override (a test's, or a reload) takes effect at once.
def lead_source_bucket() -> TokenBucket:
    """Per API key: API_THROTTLE_BURST at once, API_THROTTLE_RATE sustained."""
    return TokenBucket(name="lead_source", capacity=settings.API_THROTTLE_BURST, rate=settings.API_THROTTLE_RATE)


def bad_key_bucket() -> TokenBucket:
    """Per client address, for requests with a missing or invalid key."""
    return TokenBucket(
        name="bad_key", capacity=settings.API_BAD_KEY_THROTTLE_BURST, rate=settings.API_BAD_KEY_THROTTLE_RATE
    )


def client_address(request) -> str:
    """The client's address as the login lockout resolves it (axes: REMOTE_ADDR unless a trusted
    proxy is configured), so one setting covers both."""
    return get_client_ip_address(request) or "unknown"


def rate_limit_note(request, state: BucketState | None) -> None:
    """Remember the bucket this request was counted in, for the response's RateLimit-* headers."""
    if state is not None:
        request.rate_limit_state = state


class LeadSourceRateThrottle(BaseThrottle):
    """A token bucket per lead source (so per API key); its state goes into the RateLimit-* headers."""

    def allow_request(self, request, view):
        if not isinstance(request.auth, LeadSource):
            return True
        self.state = lead_source_bucket().take(request.auth.pk)
        rate_limit_note(request, self.state)
        return self.state is None or self.state.allowed

    def wait(self):
        return self.state.retry_after


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "intake.api.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "The lead source's API key, sent as `Authorization: Api-Key <key>`.",
        }


RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "Requests this key may send at once (the burst); the sustained rate is lower.",
    "RateLimit-Remaining": "Requests it may send now.",
    "RateLimit-Reset": "Seconds until the full burst is available again.",
}


# --- Request size ----------------------------------------------------------------------------------


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "payload_too_large"


def _body_limit() -> int:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0


# --- Serializers ------------------------------------------------------------------------------


class _Text(serializers.CharField):
    """A lenient string: blank and null allowed, whitespace kept for the intake service to clean."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return "" if data is None else super().to_internal_value(data)


class LeadIntakeSerializer(serializers.Serializer):
    """The inquiry. Values are checked by `lead_intake` (one set of rules for every intake path)."""

    first_name = serializers.CharField(required=True, allow_blank=True, trim_whitespace=False)
    last_name = _Text()
    phone = _Text(help_text="Any common format; stored as E.164. A phone or an email is required.")
    email = _Text()
    company = _Text()
    how_heard = _Text(help_text="How did you hear about us?")
    interest = _Text(help_text="Why are you contacting us?")
    timezone = _Text(max_length=64, help_text="IANA name, e.g. America/Chicago; default: from the phone number.")
    twitter_handle = _Text()
    linkedin_url = _Text()


LeadIntakeResponse = inline_serializer(
    "LeadIntakeResponse",
    fields={
        "id": serializers.IntegerField(),
        "status": serializers.CharField(),
        "owner": serializers.CharField(allow_null=True, help_text="Name of the rep who will follow up."),
        "duplicate": serializers.BooleanField(help_text="True: the inquiry was added to an existing open lead."),
        "timezone": serializers.CharField(),
        "created_at": serializers.DateTimeField(),
    },
)


def _intake_response_body(result) -> dict:
    lead = result.lead
    return {
        "id": lead.pk,
        "status": lead.status,
        "owner": str(lead.owner) if lead.owner_id else None,
        "duplicate": not result.created,
        "timezone": lead.timezone,
        "created_at": serializers.DateTimeField().to_representation(lead.created_at),
    }


def request_fingerprint(data) -> str:
    """SHA-256 of the parsed body in a canonical form (key order and JSON spacing do not matter)."""
    if hasattr(data, "lists"):  # QueryDict from a form-encoded or multipart body
        data = {key: values for key, values in data.lists()}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- The view -----------------------------------------------------------------------------------


class LeadCreateView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasLeadSource]
    throttle_classes = [LeadSourceRateThrottle]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def initial(self, request, *args, **kwargs):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if _body_limit() and length > _body_limit():
            raise PayloadTooLarge(f"Request body too large: at most {_body_limit()} bytes.")
        # An address that sent too many missing or bad keys is refused before its key is looked
        # at: a lucky guess gets the same 429 as a wrong one until the bucket refills.
        bad_keys = bad_key_bucket().take(client_address(request), cost=0)
        if bad_keys is not None and not bad_keys.allowed:
            rate_limit_note(request, bad_keys)
            raise exceptions.Throttled(wait=bad_keys.retry_after)
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc):
        if isinstance(exc, RequestDataTooBig):
            exc = PayloadTooLarge(f"Request body too large: at most {_body_limit()} bytes.")
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            bad_keys = bad_key_bucket().take(client_address(self.request))
            rate_limit_note(self.request, bad_keys)
            if bad_keys is not None and not bad_keys.allowed:
                exc = exceptions.Throttled(wait=bad_keys.retry_after)
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        state = getattr(request, "rate_limit_state", None)
        if state is not None:
            for name, value in state.headers().items():
                response[name] = value
        return response

    @extend_schema(
        operation_id="leads_create",
        summary="Capture an inquiry (web-to-lead)",
        description=(
            "Creates a lead, or adds the inquiry to the open lead with the same phone or email "
            "(then `duplicate` is true and the status is 200). JSON or form-encoded bodies. "
            "Unknown fields are ignored. Send an `Idempotency-Key` to make retries safe."
        ),
        request=LeadIntakeSerializer,
        parameters=[
            *(
                OpenApiParameter(name, int, OpenApiParameter.HEADER, response=True, description=description)
                for name, description in RATE_LIMIT_HEADERS.items()
            ),
            OpenApiParameter(
                "Idempotency-Key",
                location=OpenApiParameter.HEADER,
                required=False,
                description=(
                    "Up to 255 characters. A repeat with the same key and body replays the first "
                    "response (header `Idempotent-Replayed: true`); the same key with another body gets 422."
                ),
            ),
        ],
        responses={
            201: LeadIntakeResponse,
            200: OpenApiResponse(LeadIntakeResponse, description="Added to an existing open lead."),
            400: OpenApiResponse(description='Invalid input: {"field": ["message", ...]}; nothing was saved.'),
            401: OpenApiResponse(description="Missing, invalid, revoked or inactive API key."),
            409: OpenApiResponse(description="A request with this Idempotency-Key is still in progress."),
            413: OpenApiResponse(description="Request body too large."),
            422: OpenApiResponse(description="Idempotency-Key reused with a different body."),
            429: OpenApiResponse(
                description="Too many requests for this key, or too many bad keys from this address; "
                "retry after Retry-After seconds."
            ),
        },
    )
    def post(self, request):
        source = request.auth
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return self._intake(request, source)
        key = key.strip()
        if not key or len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
            raise exceptions.ValidationError(
                {"Idempotency-Key": [f"Use a non-empty key of at most {IDEMPOTENCY_KEY_MAX_LENGTH} characters."]}
            )
        fingerprint = request_fingerprint(request.data)
        # The record is claimed in the same transaction as the intake: a concurrent request with the
        # same key blocks on the unique index until this one commits, then replays its response. A
        # rejected (400) request rolls the claim back, so the key can be retried with corrected data.
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(source=source, key=key, request_fingerprint=fingerprint)
            except IntegrityError:
                record = None
            if record is not None:
                response = self._intake(request, source)
                record.status_code = response.status_code
                record.response = response.data
                record.save(update_fields=["status_code", "response"])
                return response
        return self._replay(source=source, key=key, fingerprint=fingerprint)

    def _intake(self, request, source) -> Response:
        serializer = LeadIntakeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["timezone_name"] = data.pop("timezone", "")
        try:
            result = lead_intake(**data, source=source, via="api")
        except DjangoValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
            raise exceptions.ValidationError(detail=detail)
        return Response(
            _intake_response_body(result), status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )

    def _replay(self, *, source, key, fingerprint) -> Response:
        record = IdempotencyRecord.objects.filter(source=source, key=key).first()
        if record is None or record.status_code is None:
            return Response(
                {"detail": "A request with this Idempotency-Key is in progress; retry shortly."},
                status=status.HTTP_409_CONFLICT,
            )
        if record.request_fingerprint != fingerprint:
            return Response(
                {
                    "detail": "This Idempotency-Key was already used with a different request body. "
                    "Use a new key for a new request."
                },
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return Response(record.response, status=record.status_code, headers={"Idempotent-Replayed": "true"})
