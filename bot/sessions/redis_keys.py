"""Redis key layout of the session store, and the Lua scripts that keep its writes atomic.

Every key of one conversation carries the same hash tag, ``{<encoded id>}``, so Redis Cluster
puts them in one slot and a script or MULTI may touch them together. The conversation index (a
sorted set by last activity) is one key of its own, written beside a conversation's keys but
never inside the same script, so nothing here needs a cross-slot operation.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import ConfigError


def encode_id(cid: str) -> bytes:
    """The conversation id as it appears inside a key's hash tag.

    Percent-escapes ``%``, ``{`` and ``}`` so an id such as ``"a}b"`` cannot end the hash tag
    early (which would split a conversation over slots); the mapping is one-to-one.
    """
    escaped = cid.replace("%", "%25").replace("{", "%7B").replace("}", "%7D")
    return escaped.encode("utf-8", "surrogatepass")


def id_bytes(cid: str) -> bytes:
    """The id as stored in the index (lone surrogates from JSON input survive the trip)."""
    return cid.encode("utf-8", "surrogatepass")


def id_from_bytes(raw: bytes) -> str:
    """Inverse of :func:`id_bytes`."""
    return raw.decode("utf-8", "surrogatepass")


@dataclass(frozen=True, slots=True)
class ConversationKeys:
    """The keys (and pub/sub channel) of one conversation."""

    events: bytes
    meta: bytes
    lock: bytes
    feed: bytes
    deliveries: bytes
    """Sorted set of claimed delivery ids scored by claim time (``claim_delivery``)."""
    appends: bytes
    """Sorted set of the latest appends' tokens scored by the event count after each, so a
    resent append is recognised (``APPEND_LUA``)."""


@dataclass(frozen=True, slots=True)
class KeyLayout:
    """All key names under one prefix, e.g. ``concierge:{abc}:events``."""

    prefix: str

    def __post_init__(self) -> None:
        if not self.prefix:
            raise ConfigError("sessions.key_prefix", "must not be empty")
        if "{" in self.prefix or "}" in self.prefix:
            # A brace in the prefix would become the hash tag and put every key in one slot.
            raise ConfigError("sessions.key_prefix", f"must not contain braces: {self.prefix!r}")

    def conversation(self, cid: str) -> ConversationKeys:
        """Keys of conversation ``cid``."""
        base = self.prefix.encode() + b":{" + encode_id(cid) + b"}:"
        return ConversationKeys(
            base + b"events",
            base + b"meta",
            base + b"lock",
            base + b"feed",
            base + b"deliveries",
            base + b"appends",
        )

    @property
    def index(self) -> bytes:
        """The sorted set of conversation ids scored by last-activity time."""
        return self.prefix.encode() + b":conversations"


APPENDS_KEPT = 100
"""Append tokens remembered per conversation; a resend comes within seconds of its first try."""

# KEYS: events, meta, appends. ARGV: now, ttl_ms, feed channel, PUBLISH or SPUBLISH, token,
# event JSON... Idempotent per token: a resend (the reply to the first try was lost to a
# broken connection or a failover) returns the first try's total and pushes nothing, so the
# store may retry appends. Pushes in chunks because unpack() of tens of thousands of arguments
# overflows Lua's stack. The feed message is built by concatenation: every ARGV event is
# already a JSON document. SPUBLISH (cluster): the feed channel carries the conversation's
# hash tag, so it is in the slot of the keys and served by the node that runs this script.
APPEND_LUA = f"""
local done = redis.call('ZSCORE', KEYS[3], ARGV[5])
if done then
  return tonumber(done)
end
local start = redis.call('LLEN', KEYS[1])
local total = start
for i = 6, #ARGV, 1000 do
  total = redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('HSETNX', KEYS[2], 'created', ARGV[1])
redis.call('HSETNX', KEYS[2], 'mode', 'bot')
local updated = tonumber(redis.call('HGET', KEYS[2], 'updated') or '0')
if tonumber(ARGV[1]) > updated then
  redis.call('HSET', KEYS[2], 'updated', ARGV[1])
end
redis.call('ZADD', KEYS[3], total, ARGV[5])
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -{APPENDS_KEPT + 1})
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
redis.call(ARGV[4], ARGV[3],
  '{{"start":' .. start .. ',"events":[' .. table.concat(ARGV, ',', 6) .. ']}}')
return total
"""

# KEYS: events, meta. ARGV: now, ttl_ms, mode.
SET_MODE_LUA = """
redis.call('HSETNX', KEYS[2], 'created', ARGV[1])
redis.call('HSET', KEYS[2], 'mode', ARGV[3])
local updated = tonumber(redis.call('HGET', KEYS[2], 'updated') or '0')
if tonumber(ARGV[1]) > updated then
  redis.call('HSET', KEYS[2], 'updated', ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""

# KEYS: lock. ARGV: token, ttl_ms. This is SET NX PX, plus: a retry whose first reply was lost
# on the wire finds its own token and knows it already holds the lock.
ACQUIRE_LUA = """
local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  return 1
end
return 0
"""

# KEYS: lock. ARGV: token, lease_ms. Extends the lease, only for the token that holds it.
RENEW_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS: lock. ARGV: token. Compare-and-delete: only the holder's token releases the lock.
RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# KEYS: deliveries. ARGV: horizon (claims at or before it have expired), now, ttl_ms, id, most
# ids kept. Returns 1 for the first claim of the id, 0 for a repeat. A repeat does not move the
# id's time: it is remembered for ttl after its first claim.
CLAIM_DELIVERY_LUA = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local added = redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[4])
if added == 1 then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[5]) + 1))
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return added
"""

# KEYS: index. ARGV: id, score seen. Drops an index entry of a vanished conversation unless
# the conversation became active again since the listing read it (its score moved on).
PRUNE_LUA = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
"""
