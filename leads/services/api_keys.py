"""API keys of lead sources: issued once, stored as a SHA-256 only, revocable."""

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from leads.models import LeadSource

API_KEY_PREFIX = "lf_"


def api_key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def lead_source_issue_api_key(*, source: LeadSource, raw_key: str | None = None) -> str:
    """Give `source` a new API key and return it: it is shown once and only its hash is stored.

    `raw_key` is for the demo data only, whose key is documented.
    """
    if raw_key is None:
        raw_key = f"{API_KEY_PREFIX}{secrets.token_hex(4)}.{secrets.token_urlsafe(24)}"
    prefix = raw_key.split(".", 1)[0]
    if not raw_key.startswith(API_KEY_PREFIX) or "." not in raw_key or len(prefix) > 16:
        raise ValidationError("API keys look like lf_<prefix>.<secret>.")
    source.api_key_prefix = prefix
    source.api_key_hash = api_key_hash(raw_key)
    source.api_key_revoked_at = None
    source.save(update_fields=["api_key_prefix", "api_key_hash", "api_key_revoked_at"])
    return raw_key


def lead_source_revoke_api_key(*, source: LeadSource) -> None:
    source.api_key_revoked_at = timezone.now()
    source.save(update_fields=["api_key_revoked_at"])


def lead_source_for_api_key(raw_key: str) -> LeadSource | None:
    """The active source whose (unrevoked) key this is, compared in constant time."""
    prefix = (raw_key or "").split(".", 1)[0]
    if not prefix.startswith(API_KEY_PREFIX):
        return None
    source = (
        LeadSource.objects.filter(Q(api_key_revoked_at__isnull=True), api_key_prefix=prefix, active=True)
        .select_related("team")
        .first()
    )
    if source and secrets.compare_digest(source.api_key_hash, api_key_hash(raw_key)):
        return source
    return None
