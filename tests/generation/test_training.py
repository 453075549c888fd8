"""Fine-tuning on a tiny model of the real architecture: masks, data, LoRA and full training."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from bot.generation.backend import ChatMessage, messages
from bot.generation.prompt import ABSTAIN
from bot.generation.tokenize import IGNORE, encode_chat
from bot.generation.training import TrainConfig, encode_all, perplexity, prepare_model, save, train
from bot.generation.training_data import (
    BitextRow,
    ChatExample,
    GroundedBuilder,
    Question,
    Retrieved,
    bitext_examples,
    sentences,
    split_bitext,
)
from bot.knowledge import Passage
from bot.knowledge.vectors import sentences as index_sentences
from tests.core.test_pipeline import HashEncoder

CHATS = [
    messages(
        ("user", f"where is order {n}?"), ("assistant", f"Order {n} ships in {n % 5 + 2} days.")
    )
    for n in range(24)
]


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def test_only_the_answer_carries_loss(tiny_model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    chat = messages(("system", "be brief"), ("user", "hi"), ("assistant", "Hello there."))
    encoded = encode_chat(tokenizer, chat, 256)
    assert encoded is not None
    targets = [t for t in encoded.labels if t != IGNORE]
    assert tokenizer.decode(targets) == "Hello there.<|im_end|>"
    # Everything before the answer is masked, and the masked part is the generation prompt.
    first = next(i for i, t in enumerate(encoded.labels) if t != IGNORE)
    prompt = tokenizer.apply_chat_template(
        [{"role": m.role, "content": m.content} for m in chat[:-1]],
        add_generation_prompt=True,
        tokenize=True,
    )
    prompt_ids = prompt["input_ids"] if hasattr(prompt, "keys") else prompt
    assert encoded.input_ids[:first] == list(prompt_ids)


def test_a_prompt_that_does_not_fit_is_dropped_not_cut(tiny_model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    long = messages(("user", "word " * 400), ("assistant", "ok"))
    assert encode_chat(tokenizer, long, 64) is None
    with pytest.raises(ValueError, match="must end with the assistant"):
        encode_chat(tokenizer, messages(("user", "hi")), 64)


def test_bitext_split_is_the_baselines_protocol() -> None:
    rows = [BitextRow(f"q{i}", f"a{i}", "x") for i in range(100)]
    train_rows, held = split_bitext(rows)
    expected = list(rows)
    random.seed(0)
    random.shuffle(expected)  # the wording: random.seed(0), then shuffle
    assert held == expected[:10]
    assert train_rows == expected[10:]
    assert bitext_examples(held[:1])[0].messages[-1] == ChatMessage("assistant", held[0].response)


def test_grounded_answers_are_made_of_their_context() -> None:
    passages = [
        Passage(
            "r.md#w",
            "r.md",
            "Returns",
            "Return window",
            "You can return items within 30 days. Sale items are final. Call {{Support Phone}}.",
        ),
        Passage(
            "s.md#t",
            "s.md",
            "Shipping",
            "Delivery time",
            "Standard shipping takes 3 to 5 business days.",
            ("shipping",),
        ),
    ]
    builder = GroundedBuilder(
        passages, HashEncoder(), shop_name="Shop", placeholders={"support_phone": "555"}, seed=1
    )
    questions = [
        Question("how many days to return items", None, "r.md#w"),
        Question("how long does shipping take", "shipping"),
        Question("can I pay with gold bars", "payment_methods"),
    ]
    hits = [
        Retrieved(("r.md#w", "s.md#t"), True),
        Retrieved(("s.md#t", "r.md#w"), True),
        Retrieved(("r.md#w", "s.md#t"), True),
    ]
    examples = builder.build(questions, hits, abstain_share=0.5)
    kinds = [e.kind for e in examples]
    assert kinds.count("grounded") == 2
    assert kinds.count("abstain") == 1
    for example in examples:
        system, answer = example.messages[0].content, example.messages[-1].content
        assert "{{" not in system
        if example.kind == "abstain":
            assert answer == ABSTAIN
            continue
        for sentence in sentences(
            answer.removeprefix("Sure! ")
            .removeprefix("Happy to help. ")
            .removeprefix("Good question. ")
        ):
            assert sentence in system  # extractive: nothing the context does not say


def test_grounded_prompts_keep_the_sentences_serving_would_keep() -> None:
    passage = Passage(
        "r.md#w",
        "r.md",
        "Returns",
        "Return window",
        # The serving index also splits at colons and drops short fragments ("gift cards;"),
        # so its sentence positions differ from this module's split.
        "A few items are final sale: gift cards; socks once opened. Tags must be attached. "
        "You can return items within 30 days of delivery. Call {{Support Phone}} for help.",
    )
    encoder = HashEncoder()
    builder = GroundedBuilder(
        [passage],
        encoder,
        shop_name="Shop",
        placeholders={"support_phone": "555"},
        top_k=1,
        max_sentences=1,
    )
    question = "return items within 30 days of delivery"

    (example,) = builder.build([Question(question, None, "r.md#w")], [Retrieved(("r.md#w",), True)])

    # The same order a search hit would carry: the sentence vectors against the question's.
    parts = index_sentences(passage.text)
    assert len(parts) != len(sentences(passage.text))
    vectors = np.asarray(encoder.encode(parts))
    query = np.asarray(encoder.encode([question]))[0]
    nearest = parts[int(np.argmax(vectors @ query / np.linalg.norm(vectors, axis=1)))]
    system = example.messages[0].content
    assert nearest in system
    assert sum(part in system for part in parts) == 1


def _examples() -> list[ChatExample]:
    return [ChatExample(chat, "test") for chat in CHATS]


def test_lora_training_lowers_the_loss_and_changes_only_the_adapter(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    base_before = {n: p.clone() for n, p in model.named_parameters()}
    encoded, dropped = encode_all(tokenizer, _examples(), 128)
    assert dropped == 0
    pad = tokenizer.pad_token_id
    before = perplexity(model, encoded, pad_id=pad)
    config = TrainConfig(lora_r=4, lora_alpha=8, learning_rate=5e-3, epochs=6, tokens_per_batch=512)
    peft_model = prepare_model(model, config)
    lora_before = {n: p.clone() for n, p in peft_model.named_parameters() if p.requires_grad}
    record = train(peft_model, tokenizer, encoded, config)
    after = perplexity(peft_model, encoded, pad_id=pad)
    assert record["losses"][-1] < record["losses"][0]
    assert after < before * 0.8
    changed = [
        n
        for n, p in peft_model.named_parameters()
        if p.requires_grad and not torch.equal(p, lora_before[n])
    ]
    assert changed, "the adapter weights did not move"
    for name, param in peft_model.get_base_model().named_parameters():
        if "lora_" not in name:
            original = name.replace(".base_layer", "")
            assert torch.equal(param, base_before[original]), name
    save(peft_model, tokenizer, tmp_path / "adapter", config, {"perplexity": after})
    files = {p.name for p in (tmp_path / "adapter").iterdir()}
    assert {
        "adapter_config.json",
        "adapter_model.safetensors",
        "training_config.json",
        "metrics.json",
    } <= files
    assert json.loads((tmp_path / "adapter/training_config.json").read_text())["lora_r"] == 4

    from peft import PeftModel

    reloaded = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir), tmp_path / "adapter"
    )
    assert perplexity(reloaded, encoded, pad_id=pad) == pytest.approx(after, rel=0.02)


def test_full_training_changes_the_weights(tiny_model_dir: Path) -> None:
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    encoded, _ = encode_all(tokenizer, _examples(), 128)
    config = TrainConfig(method="full", learning_rate=3e-3, epochs=4, tokens_per_batch=512)
    before = perplexity(model, encoded, pad_id=tokenizer.pad_token_id)
    record = train(prepare_model(model, config), tokenizer, encoded, config)
    assert record["losses"][-1] < record["losses"][0]
    assert perplexity(model, encoded, pad_id=tokenizer.pad_token_id) < before


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="method"):
        TrainConfig(method="qlora")
    with pytest.raises(ValueError, match="positive"):
        TrainConfig(epochs=0)
