"""Token buckets for the web-to-lead API: a website's burst gets through, only sustained abuse is refused.

A bucket holds up to `capacity` tokens and gains `rate` tokens a second, up to `capacity`; each
request takes one token, or is refused (429) when none is left. A full bucket (the state of one
never seen, or idle long enough) lets `capacity` requests through at once; after that a client
gets `rate` requests a second. The state is two numbers per bucket, tokens and when they were
counted; a missing bucket is a full one, so a key expires once its bucket would be full again.

With Redis as the cache (REDIS_URL), a take is one Lua script run on the Redis server: refill,
take and write happen atomically, on Redis's clock, so all gunicorn workers and web hosts share
one exact count. Without Redis (development's file cache, the tests' locmem cache) a lock in this
process serialises the read-modify-write: exact within one process, approximate across several
(the file cache has no atomic update). If Redis cannot be reached, requests are let through
(logged): the throttle protects against abuse and must not lose leads when it is down.
"""

import logging
import math
import threading
import time
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# KEYS[1]: the bucket. ARGV: capacity, refill rate (tokens/s), cost (1 takes a token, 0 only looks).
# Returns {1 if a token was available (and taken), tokens left as a string (Lua numbers would be
# truncated to integers)}.
TAKE_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call("TIME")
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call("HMGET", KEYS[1], "tokens", "at")
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
if tokens < 1 then
  return {0, tostring(tokens)}
end
if cost > 0 then
  tokens = tokens - cost
  redis.call("HSET", KEYS[1], "tokens", tostring(tokens), "at", tostring(now))
  redis.call("PEXPIRE", KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
end
return {1, tostring(tokens)}
"""

_local_lock = threading.Lock()


@dataclass(frozen=True)
class BucketState:
    """What a take found: whether it passed, and what the response headers tell the client."""

    allowed: bool
    limit: int  # the burst: requests a full bucket lets through at once
    tokens: float  # left after this request
    rate: float

    @property
    def remaining(self) -> int:
        return max(0, math.floor(self.tokens))

    @property
    def retry_after(self) -> float:
        """Seconds until the next token (0 while one is there)."""
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    @property
    def reset(self) -> int:
        """Seconds until the bucket is full again."""
        return math.ceil(max(0.0, self.limit - self.tokens) / self.rate)

    def headers(self) -> dict[str, str]:
        """draft-ietf-httpapi-ratelimit-headers (the RateLimit-Limit/-Remaining/-Reset fields)."""
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


class TokenBucket:
    """Buckets named `name`, one per identity (an API key's source, a client address)."""

    def __init__(self, *, name: str, capacity: int, rate: float):
        if capacity < 1 or rate <= 0:
            raise ValueError("A token bucket needs a capacity of at least 1 and a positive rate.")
        self.name, self.capacity, self.rate = name, capacity, rate

    def take(self, ident, *, cost: int = 1) -> BucketState | None:
        """Take `cost` tokens from `ident`'s bucket if one is there (cost 0: only look). None when
        the store cannot be reached (let the request through)."""
        cache, key = caches["default"], f"throttle:{self.name}:{ident}"
        try:
            if isinstance(cache, RedisCache):
                allowed, tokens = self._take_in_redis(cache, key, cost)
            else:
                allowed, tokens = self._take_in_process(cache, key, cost)
        except RedisError:
            log.warning("API throttle store unreachable; %s not counted", self.name, exc_info=True)
            return None
        return BucketState(allowed=allowed, limit=self.capacity, tokens=tokens, rate=self.rate)

    def _take_in_redis(self, cache: RedisCache, key: str, cost: int) -> tuple[bool, float]:
        key = cache.make_and_validate_key(key)
        # The cache's own connection pool (Django has no public accessor for the client).
        client = cache._cache.get_client(key, write=True)
        allowed, tokens = client.register_script(TAKE_SCRIPT)(keys=[key], args=[self.capacity, self.rate, cost])
        return bool(allowed), float(tokens)

    def _take_in_process(self, cache, key: str, cost: int) -> tuple[bool, float]:
        with _local_lock:
            now = time.time()
            tokens, at = cache.get(key) or (self.capacity, now)
            tokens = min(self.capacity, tokens + max(0.0, now - at) * self.rate)
            if tokens < 1:
                return False, tokens
            if cost:
                tokens -= cost
                cache.set(key, (tokens, now), timeout=math.ceil((self.capacity - tokens) / self.rate) + 1)
            return True, tokens
