"""Where a lead's reply comes back to, and how a reply finds its lead again.

Every email touch carries `Reply-To: replies+<token>@<domain>` (settings.REPLY_TO_ADDRESS gives the
local part and the domain) and `Message-ID: <touch-<pk>@<domain of DEFAULT_FROM_EMAIL>>`
(messaging.dispatch.outgoing_message_for). An inbound email is matched by either.

The token is `<lead id in base 36>-<signature>`: the signature is django.core.signing's HMAC of the
lead id (salted for this use only, so no other signed value of ours is a valid token), re-encoded
in lower-case base 32 and shortened to TOKEN_SIGNATURE_CHARS (80 bits). Lower case because some
MTAs lower-case local parts; it is checked lower-cased, against SECRET_KEY and SECRET_KEY_FALLBACKS
(a rotated key keeps old replies matching).
"""

from __future__ import annotations

import base64
import re
from email.utils import parseaddr

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare

TOKEN_SALT = "messaging.reply_address"
TOKEN_SIGNATURE_CHARS = 16
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_TOUCH_MESSAGE_ID = re.compile(r"^<?touch-(\d{1,18})@([^>\s]+)>?$", re.IGNORECASE)


def sender_domain() -> str:
    """The domain of DEFAULT_FROM_EMAIL ("LeadFollow <sales@x.example>" -> "x.example"), lower-cased."""
    return settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ").lower()


def _reply_mailbox() -> tuple[str, str]:
    address = parseaddr(settings.REPLY_TO_ADDRESS)[1] or settings.REPLY_TO_ADDRESS
    local, _, domain = address.strip().lower().rpartition("@")
    return local, domain


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _BASE36[rest] + digits
        if not number:
            return digits


def _signatures(value: str) -> list[str]:
    signer = signing.Signer(salt=TOKEN_SALT, algorithm="sha256")
    found = []
    for key in [signer.key, *signer.fallback_keys]:
        digest = signing.b64_decode(signer.signature(value, key=key).encode())
        found.append(base64.b32encode(digest).decode().lower()[:TOKEN_SIGNATURE_CHARS])
    return found


def reply_token_for(lead_id: int) -> str:
    value = _base36(int(lead_id))
    return f"{value}-{_signatures(value)[0]}"


def reply_to_for(lead_id: int) -> str:
    """The Reply-To address of the lead's emails: "replies+<token>@domain"."""
    local, domain = _reply_mailbox()
    return f"{local}+{reply_token_for(lead_id)}@{domain}"


def lead_id_for_address(address: str) -> int | None:
    """The lead id a reply address was made for, or None (another address, a forged or damaged token).

    Takes a bare address or a header value ("Sales <replies+…@x.example>"), in any case."""
    bare = (parseaddr(address or "")[1] or "").strip().lower()
    local, domain = _reply_mailbox()
    user, _, at = bare.rpartition("@")
    if at != domain or not user.startswith(f"{local}+"):
        return None
    value, _, signature = user[len(local) + 1 :].partition("-")
    if not value or len(value) > 13 or any(c not in _BASE36 for c in value) or len(signature) != TOKEN_SIGNATURE_CHARS:
        return None
    if not any(constant_time_compare(signature, expected) for expected in _signatures(value)):
        return None
    return int(value, 36)


def touch_id_for_message_id(msgid: str) -> int | None:
    """The touch whose Message-ID this is (`<touch-<pk>@<our domain>>`), or None (another domain's, or not ours)."""
    found = _TOUCH_MESSAGE_ID.match((msgid or "").strip())
    if not found or found.group(2).lower() != sender_domain():
        return None
    return int(found.group(1))
