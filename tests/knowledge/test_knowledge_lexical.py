"""The BM25 keyword index that retrieval fuses with embeddings."""

from __future__ import annotations

import numpy as np

from bot.knowledge.lexical import BM25Index, stem, tokenize


def test_tokenize_drops_stop_words_and_stems() -> None:
    assert tokenize("How do I get my Refunds? Refunded!") == ["refund", "refund"]
    assert tokenize("deliveries") == ["delivery"]
    assert stem("gas") == "gas"  # too short to strip


def test_rare_matching_word_ranks_its_document_first() -> None:
    index = BM25Index(
        [
            "Shipping takes 3-7 business days with standard shipping.",
            "We accept gift cards and PayPal.",
            "Invoices are in your order history.",
        ]
    )

    scores = index.scores("can I pay with paypal")

    assert int(np.argmax(scores)) == 1
    assert scores[0] == 0
    assert scores[2] == 0


def test_unknown_words_and_empty_index_score_zero() -> None:
    assert not BM25Index(["alpha beta"]).scores("gamma").any()
    assert BM25Index([]).scores("anything").shape == (0,)
