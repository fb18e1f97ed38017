"""Which message of a lead's conversation a user last saw, so Today can say "New reply".

Kept in the cache (Redis in production), not in the database: it is a hint for one screen, and
losing it (a cache flush) only shows "New reply" again for replies the rep had already read.
"""

from django.core.cache import cache

SEEN_FOR_SECONDS = 30 * 24 * 3600


def _key(user_id: int, lead_id: int) -> str:
    return f"conversation-seen:{user_id}:{lead_id}"


def conversation_seen(*, user_id: int, lead_id: int, message_id: int) -> None:
    """`user_id` saw the lead's conversation up to `message_id`."""
    if message_id:
        cache.set(_key(user_id, lead_id), message_id, SEEN_FOR_SECONDS)


def conversation_seen_ids(*, user_id: int, lead_ids: list[int]) -> dict[int, int]:
    """The last message id `user_id` saw, per lead (0 when never): one cache round trip."""
    found = cache.get_many([_key(user_id, lead_id) for lead_id in lead_ids])
    return {lead_id: int(found.get(_key(user_id, lead_id)) or 0) for lead_id in lead_ids}
