"""Contract: delivery de-duplication (``claim_delivery``), for every SessionStore adapter.

Kept beside ``test_contract.py`` (same ``backend`` fixture, both adapters, Redis the real
server) as ``test_contract_lock.py`` is, so each contract file stays readable.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.domain import ConversationId
from bot.errors import BadRequest
from bot.sessions import SessionStore
from bot.sessions.base import MAX_DELIVERIES, MAX_DELIVERY_ID_CHARS

from .conftest import Backend
from .test_contract import ev


async def test_a_delivery_is_claimed_once_per_conversation(
    store: SessionStore, cid: ConversationId
) -> None:
    assert await store.claim_delivery(cid, "update-1") is True
    assert await store.claim_delivery(cid, "update-1") is False
    assert await store.claim_delivery(cid, "update-1") is False
    assert await store.claim_delivery(cid, "update-2") is True
    # The same id in another conversation is another delivery.
    other = ConversationId(f"{cid}-other")
    assert await store.claim_delivery(other, "update-1") is True


async def test_concurrent_claims_in_two_workers_have_one_winner(
    backend: Backend, cid: ConversationId
) -> None:
    first, second = backend.make(), backend.make()
    for n in range(5):
        claims = [(first if i % 2 else second).claim_delivery(cid, f"wamid.{n}") for i in range(20)]
        results = await asyncio.gather(*claims)
        assert results.count(True) == 1, results


async def test_a_released_claim_can_be_claimed_again(
    store: SessionStore, cid: ConversationId
) -> None:
    await store.release_delivery(cid, "never-claimed")  # nothing to forget: no error
    assert await store.claim_delivery(cid, "m1")
    assert await store.claim_delivery(cid, "m2")
    await store.release_delivery(cid, "m1")
    assert await store.claim_delivery(cid, "m1") is True
    assert await store.claim_delivery(cid, "m2") is False  # only the released one


async def test_claims_are_not_conversation_activity(
    store: SessionStore, cid: ConversationId
) -> None:
    assert await store.claim_delivery(cid, "42")
    assert await store.events(cid) == []
    assert await store.export(cid) is None
    assert await store.ttl(cid) is None
    assert await store.list_conversations() == ([], None)


async def test_an_id_is_forgotten_ttl_after_its_first_claim(
    backend: Backend, cid: ConversationId
) -> None:
    store = backend.make(ttl_s=1.0)
    assert await store.claim_delivery(cid, "a")
    await backend.advance(0.6)
    assert await store.claim_delivery(cid, "a") is False  # a repeat does not extend it
    assert await store.claim_delivery(cid, "b")
    await backend.advance(0.6)
    assert await store.claim_delivery(cid, "a") is True  # 1.2 s after its first claim
    assert await store.claim_delivery(cid, "b") is False  # 0.6 s after its own


async def test_only_the_newest_ids_are_remembered(store: SessionStore, cid: ConversationId) -> None:
    for n in range(MAX_DELIVERIES + 1):
        assert await store.claim_delivery(cid, f"id-{n}")
    # The oldest was forgotten to make room; the newest ones are still known.
    assert await store.claim_delivery(cid, f"id-{MAX_DELIVERIES}") is False
    assert await store.claim_delivery(cid, "id-2") is False
    assert await store.claim_delivery(cid, "id-0") is True


async def test_delete_forgets_the_claims(store: SessionStore, cid: ConversationId) -> None:
    await store.append(cid, [ev(0)])
    assert await store.claim_delivery(cid, "m1")
    assert await store.delete(cid) is True
    assert await store.claim_delivery(cid, "m1") is True
    # Claims alone are something to delete, too.
    assert await store.delete(cid) is True
    assert await store.claim_delivery(cid, "m1") is True


@pytest.mark.parametrize("delivery_id", ["émoji 🛒", "\ud800lone", "{}:%7B", "x" * 256])
async def test_odd_delivery_ids_are_kept_intact_and_apart(
    store: SessionStore, cid: ConversationId, delivery_id: str
) -> None:
    assert await store.claim_delivery(cid, delivery_id)
    assert await store.claim_delivery(cid, delivery_id) is False
    assert await store.claim_delivery(cid, delivery_id[:-1] or "other")


async def test_bad_ids_are_refused(store: SessionStore, cid: ConversationId) -> None:
    with pytest.raises(BadRequest):
        await store.claim_delivery(cid, "")
    with pytest.raises(BadRequest):
        await store.claim_delivery(cid, "x" * (MAX_DELIVERY_ID_CHARS + 1))
    with pytest.raises(BadRequest):
        await store.claim_delivery(ConversationId(""), "1")
