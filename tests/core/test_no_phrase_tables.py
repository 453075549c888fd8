"""No hand-written phrase table decides what a shopper means.

What the wording of a message means (a request or a question, a yes, a correction, a
follow-up, frustration, which option it picks) is read by trained heads, measured on
held-out data (tests/nlu/test_reading_heads.py). The modules on a turn's decision path may
hold rules of structure only (button payloads, ids, punctuation between clauses), never lists
of words or phrases of one language. This checks the source: a regular expression with five or
more alternatives of letters, or a set of ten or more words spelled out in the code, fails it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DECISION_PATH = [
    "bot/pipeline.py",
    "bot/turn.py",
    "bot/dialogue_state.py",
    "bot/nlu/understand.py",
    "bot/nlu/interpreter.py",
    "bot/nlu/reading.py",
    "bot/nlu/heads.py",
    "bot/nlu/choice.py",
    "bot/nlu/language.py",
    "bot/knowledge/followup.py",
    *sorted(str(p.relative_to(REPO)) for p in (REPO / "bot" / "policy").glob("*.py")),
]
# A group of 5+ alternatives that are words ("and|also|plus|what about|…").
WORD_ALTERNATION = re.compile(r"(?:[a-z' ]{2,}\|){4,}[a-z' ]{2,}", re.IGNORECASE)


def string_constants(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


@pytest.mark.parametrize("module", DECISION_PATH)
def test_no_word_lists_on_the_decision_path(module: str) -> None:
    path = REPO / module
    for text in string_constants(path):
        assert not WORD_ALTERNATION.search(text), f"{module}: phrase alternation {text[:80]!r}"
        words = text.split()
        # A docstring is prose; a word table is a long string of bare lower-case words.
        if len(words) >= 10 and all(re.fullmatch(r"[a-z'\-]+", w) for w in words):
            pytest.fail(f"{module}: a word list of {len(words)} words: {text[:80]!r}")


def test_the_english_rules_the_heads_replaced_are_gone() -> None:
    for removed in ("bot/policy/asking.py", "bot/nlu/wording.py"):
        assert not (REPO / removed).exists(), removed
    followup = (REPO / "bot/knowledge/followup.py").read_text(encoding="utf-8")
    assert "looks_like_follow_up" not in followup


def test_the_check_catches_a_phrase_table(tmp_path: Path) -> None:
    table = tmp_path / "table.py"
    table.write_text('OPENERS = r"\\b(and|also|plus|what about|how about)\\b"\n', encoding="utf-8")
    (found,) = [t for t in string_constants(table) if WORD_ALTERNATION.search(t)]
    assert "what about" in found
