"""Training examples for the answer model: Bitext conversations and grounded shop answers.

Two kinds of example, both single-turn chats whose last message is the assistant's target:

- **Bitext** rows (customer-support questions and answers, CDLA-Sharing-1.0, read in place from
  ``../shared/datasets``): they teach the support register. Rows are shuffled with
  ``random.Random(0)`` and the first 10% held out, the split the perplexity baseline used.
- **Grounded** examples built from this shop's knowledge: a shopper question, the passages
  retrieval finds for it laid out in the serving prompt (:mod:`bot.generation.prompt`), and an
  answer made only of sentences of the best passage. They teach the model to take its answer
  from the context instead of writing Bitext's generic "log in to {{Website Name}}" text.
  Questions whose passages do not hold an answer teach it to say so (:data:`ABSTAIN`). Order
  facts, laid out as the actions report them, teach it to answer from facts about the shopper.

Answers are extractive on purpose: every sentence of a grounded target is in its context, so
the model is never taught to state anything the guard would reject.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.generation.backend import ChatMessage
from bot.generation.prompt import ABSTAIN, build_messages, passage_source
from bot.knowledge import fill_placeholders
from bot.knowledge.passages import Passage
from bot.knowledge.vectors import nearest_first
from bot.knowledge.vectors import sentences as index_sentences
from bot.nlu.encoder import TextEncoder


class DataError(ValueError):
    """A training file is missing or malformed; the message names the file and the row."""


@dataclass(frozen=True, slots=True)
class ChatExample:
    """A chat whose last message is the assistant answer to learn; ``kind`` says its origin."""

    messages: tuple[ChatMessage, ...]
    kind: str


@dataclass(frozen=True, slots=True)
class BitextRow:
    instruction: str
    response: str
    intent: str


def read_bitext(path: Path) -> list[BitextRow]:
    """Every usable row of a Bitext CSV (columns ``instruction``, ``response``, ``intent``).

    Raises:
        DataError: the file is unreadable or lacks a column.
    """
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror}") from exc
    rows: list[BitextRow] = []
    with handle:
        reader = csv.DictReader(handle)
        missing = {"instruction", "response", "intent"} - set(reader.fieldnames or ())
        if missing:
            raise DataError(f"{path}: missing columns {sorted(missing)}")
        for row in reader:
            instruction = (row["instruction"] or "").strip()
            response = (row["response"] or "").strip()
            if instruction and response:
                rows.append(BitextRow(instruction, response, (row["intent"] or "").strip()))
    if not rows:
        raise DataError(f"{path}: no rows with an instruction and a response")
    return rows


def split_bitext(
    rows: Sequence[BitextRow], *, held_out: float = 0.1, seed: int = 0
) -> tuple[list[BitextRow], list[BitextRow]]:
    """(train, held out): rows shuffled with ``random.Random(seed)``, the first share held out.

    ``random.Random(0).shuffle`` draws the same permutation as ``random.seed(0); random.shuffle``,
    the protocol of the perplexity baseline in the issue.
    """
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    cut = int(len(shuffled) * held_out)
    return shuffled[cut:], shuffled[:cut]


def bitext_examples(rows: Iterable[BitextRow]) -> list[ChatExample]:
    """Plain user/assistant chats, as the baseline measured them (the template's own system)."""
    return [
        ChatExample(
            (ChatMessage("user", r.instruction), ChatMessage("assistant", r.response)), "bitext"
        )
        for r in rows
    ]


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_OPENERS = ("", "", "Sure! ", "Happy to help. ", "Good question. ")


def sentences(text: str) -> list[str]:
    """A passage split into sentences and list items (each list item counts as one)."""
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        out.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return out


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    intent: str | None = None
    gold: str | None = None
    """A passage id that is known to answer it (heading questions); None trusts retrieval."""


def heading_questions(passages: Sequence[Passage]) -> list[Question]:
    """A few plain questions per passage made from its heading."""
    forms = ("{h}?", "What about {h}?", "Can you tell me about {h}?", "Question about {h}.")
    out = []
    for passage in passages:
        heading = passage.heading.rstrip("?").strip()
        lowered = heading[0].lower() + heading[1:] if heading else heading
        for form in forms:
            out.append(Question(form.format(h=lowered), None, passage.id))
    return out


@dataclass(frozen=True, slots=True)
class Retrieved:
    """What retrieval found for a question: passage ids best first, and whether the best one
    clears the policy's answer bar (the answerer never calls the model when it does not)."""

    ids: tuple[str, ...]
    relevant: bool


class GroundedBuilder:
    """Builds grounded examples from retrieval results, laid out as the answerer will see them.

    Retrieval is done by the caller with the serving knowledge base, so the passages in a
    training prompt are those the model will be given at run time for such a question.

    Args:
        passages: the knowledge passages.
        encoder: a sentence encoder (MiniLM), used to choose answer sentences.
        shop_name: the shop's name in the system prompt.
        placeholders: shop profile values for ``{{Placeholder}}`` text.
        top_k: passages put in each prompt (as at serving time).
        max_sentences: sentences kept of each passage in the prompt, nearest the question
            first, as ``generator.focus_sentences`` does at serving time; 0 keeps all.
        seed: for openers, context order and sampling.
    """

    def __init__(
        self,
        passages: Sequence[Passage],
        encoder: TextEncoder,
        *,
        shop_name: str,
        placeholders: Mapping[str, str],
        top_k: int = 3,
        max_sentences: int = 0,
        seed: int = 0,
    ) -> None:
        self._by_id = {p.id: p for p in passages}
        self._shop = shop_name
        self._placeholders = dict(placeholders)
        self._top_k = top_k
        self._max_sentences = max_sentences
        self._rng = random.Random(seed)
        # Answer targets are whole sentences of the filled passage (this module's splitter).
        self._sentences = {
            p.id: sentences(fill_placeholders(p.text, self._placeholders)) for p in passages
        }
        self._encoder = encoder
        self._sentence_vectors = self._encode_groups(self._sentences)
        # The prompt's focus orders the sentences the serving index splits (a finer split, at
        # colons too), so positions mean what a search hit's ``sentence_order`` means.
        self._index_vectors = self._encode_groups(
            {
                p.id: [fill_placeholders(s, self._placeholders) for s in index_sentences(p.text)]
                for p in passages
            }
        )

    def _encode_groups(self, groups: Mapping[str, Sequence[str]]) -> dict[str, np.ndarray]:
        """Unit vectors of every group's texts, encoded in one call."""
        flat = [text for texts in groups.values() for text in texts]
        vectors = _unit(self._encoder.encode(flat)) if flat else np.zeros((0, 1))
        out: dict[str, np.ndarray] = {}
        start = 0
        for key, texts in groups.items():
            out[key] = vectors[start : start + len(texts)]
            start += len(texts)
        return out

    def build(
        self,
        questions: Sequence[Question],
        retrieved: Sequence[Retrieved],
        *,
        max_per_passage: int = 40,
        abstain_share: float = 0.15,
    ) -> list[ChatExample]:
        """Answered examples (at most ``max_per_passage`` per passage) and some abstentions.

        A question is answered from its best passage: the labelled one for heading questions,
        else retrieval's first when that passage declares the question's intent (a retrieval
        that disagrees with the label is no trustworthy target). When no passage in the
        context declares the intent, the context does not answer the question and the
        target is :data:`ABSTAIN`; those are kept up to ``abstain_share`` of the result.
        """
        if not questions:
            return []
        vectors = _unit(self._encoder.encode([q.text for q in questions]))
        used: dict[str, int] = {}
        answered: list[ChatExample] = []
        abstained: list[ChatExample] = []
        for question, hits, vector in zip(questions, retrieved, vectors, strict=True):
            context = list(hits.ids[: self._top_k])
            if question.gold is not None:
                best = question.gold
                context = [best, *[i for i in context if i != best]][: self._top_k]
            elif question.intent is not None and not any(
                question.intent in self._by_id[i].intents for i in context
            ):
                abstained.append(self._example(question.text, context, ABSTAIN, "abstain", vector))
                continue
            elif (
                question.intent is not None
                and question.intent not in self._by_id[context[0]].intents
            ):
                continue
            else:
                best = context[0]
            if used.get(best, 0) >= max_per_passage:
                continue
            used[best] = used.get(best, 0) + 1
            answer = self._answer(vector, best)
            self._rng.shuffle(context)  # the answer is not always in [1]
            answered.append(self._example(question.text, context, answer, "grounded", vector))
        self._rng.shuffle(abstained)
        keep = int(len(answered) * abstain_share / max(1e-9, 1 - abstain_share))
        return answered + abstained[:keep]

    def unanswerable(
        self, questions: Sequence[str], retrieved: Sequence[Retrieved]
    ) -> list[ChatExample]:
        """Off-topic questions with whatever retrieval finds: the target is :data:`ABSTAIN`."""
        if not questions:
            return []
        vectors = _unit(self._encoder.encode(list(questions)))
        return [
            self._example(q, list(hits.ids[: self._top_k]), ABSTAIN, "abstain", vector)
            for q, hits, vector in zip(questions, retrieved, vectors, strict=True)
        ]

    def _answer(self, question_vector: np.ndarray, passage_id: str) -> str:
        parts = self._sentences[passage_id]
        if len(parts) <= 1:
            chosen = parts
        else:
            scores = self._sentence_vectors[passage_id] @ question_vector
            ranked = [int(i) for i in np.argsort(-scores)]
            keep = {ranked[0]}
            for i in ranked[1:3]:
                if scores[i] >= scores[ranked[0]] - 0.08:
                    keep.add(i)
            chosen = [parts[i] for i in sorted(keep)]
        body = " ".join(s.removeprefix("- ") for s in chosen)
        return self._rng.choice(_OPENERS) + body

    def _example(
        self,
        question: str,
        context: Sequence[str],
        answer: str,
        kind: str,
        question_vector: np.ndarray,
    ) -> ChatExample:
        sources = [
            passage_source(
                self._by_id[i],
                self._placeholders,
                sentence_order=nearest_first(self._index_vectors[i] @ question_vector),
                max_sentences=self._max_sentences,
            )
            for i in context
        ]
        prompt = build_messages(shop_name=self._shop, question=question, sources=sources)
        return ChatExample((*prompt, ChatMessage("assistant", answer)), kind)


def order_fact(order: Mapping[str, Any]) -> str:
    """One order as the answerer lists it among the facts about a shopper."""
    items = ", ".join(
        f"{i['name']} ({', '.join(str(v) for v in i.get('options', {}).values())})"
        f" ${i['price']:.2f}"
        for i in order.get("items", ())
    )
    fact = f"Order {order['order_id']} placed on {order.get('placed_on', '?')}: {order['status']}"
    for f in order.get("fulfillments", ()):
        tracking = ", ".join(f.get("tracking_id", ()))
        fact += f"; shipped with {f.get('carrier', 'the carrier')} (tracking {tracking})"
        if f.get("delivered_on"):
            fact += f", delivered on {f['delivered_on']}"
        elif f.get("estimated_delivery"):
            fact += f", expected on {f['estimated_delivery']}"
    paid = sum(
        p["amount"] for p in order.get("payment_history", ()) if p["transaction_type"] == "payment"
    )
    return f"{fact}. Items: {items}. Paid ${paid:.2f}."


def order_examples(
    orders_path: Path,
    passages: Sequence[Passage],
    *,
    shop_name: str,
    placeholders: Mapping[str, str],
    seed: int = 0,
    limit: int = 200,
) -> list[ChatExample]:
    """Questions about the shopper's own order answered from the order's facts."""
    try:
        orders = list(json.loads(orders_path.read_text(encoding="utf-8")).values())
    except (OSError, ValueError) as exc:
        raise DataError(f"{orders_path}: cannot read orders: {exc}") from exc
    rng = random.Random(seed)
    rng.shuffle(orders)
    sources = [passage_source(p, placeholders) for p in passages if p.source == "orders.md"][:2]
    examples = []
    for order in orders[:limit]:
        fact = order_fact(order)
        question, answer = _order_question(order, rng)
        prompt = build_messages(
            shop_name=shop_name, question=question, sources=sources, facts=[fact]
        )
        examples.append(ChatExample((*prompt, ChatMessage("assistant", answer)), "order"))
    return examples


def _order_question(order: Mapping[str, Any], rng: random.Random) -> tuple[str, str]:
    oid, status = order["order_id"], order["status"]
    fulfilments = order.get("fulfillments") or []
    choice = rng.randrange(3)
    if choice == 0 and fulfilments:
        f = fulfilments[0]
        tracking = ", ".join(f.get("tracking_id", ()))
        carrier = f.get("carrier", "the carrier")
        if f.get("delivered_on"):
            when = f"it was delivered on {f['delivered_on']}"
        else:
            when = f"it is expected on {f.get('estimated_delivery')}"
        question = rng.choice(
            ("where is my order?", "any news on my parcel?", "what's the tracking number?")
        )
        return question, f"Your order {oid} went out with {carrier}, tracking {tracking}; {when}."
    if choice == 1:
        names = ", ".join(i["name"] for i in order.get("items", ()))
        return (
            rng.choice(("what was in that order?", "remind me what I bought")),
            f"Order {oid} has: {names}.",
        )
    return (
        rng.choice(
            ("what's the status of my order?", "is my order ok?", "has my order shipped yet?")
        ),
        f"Your order {oid} is {status}.",
    )


def _unit(matrix: Any) -> np.ndarray:
    array = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    unit: np.ndarray = array / np.maximum(norms, 1e-9)
    return unit
