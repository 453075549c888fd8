"""Why a product was recommended, kept as a message key and values until it is worded.

The recommender decides the reason once ("similar to your Trail Runner Shoe", "made for
hiking"); the action words it in the conversation's language through the ``reason.*``
messages of ``data/lang/<language>/actions.yml``. Product names, categories, options and the
quality echoed are the shop's own words; the activity is one of a fixed list, translated.
"""

from __future__ import annotations

from dataclasses import dataclass

from actions.locale import Messages

_ACTIVITY_TEXT = """
    hike:hiking hiking:hiking run:running running:running runner:running trail:the_trail
    trek:trekking trekking:trekking camp:camping camping:camping travel:travel
    climb:climbing climbing:climbing walk:walking walking:walking cycling:cycling
    backpacking:backpacking
"""
_QUALITIES_TEXT = """
    warm cool light lightweight soft cosy cozy compact durable comfortable comfy grippy
    stretchy organic recycled reflective insulated quick dry breathable packable waterproof
    windproof ultralight sturdy rugged merino wool cotton fleece down
"""
QUALITIES = frozenset(_QUALITIES_TEXT.split())
"""Words a reason may echo as a quality ("Warm, as you asked"); with -proof, -able, -ible,
-weight: a noun the shopper used ("shirt") would read badly there."""


def stem(word: str) -> str:
    """A crude stem, enough to see "runs", "running" and "runner" as one word."""
    for suffix in ("ing", "ers", "er", "es", "ed", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) >= 4 and word[-1] == word[-2] else word


def is_quality(word: str) -> bool:
    """Whether ``word`` can be echoed as a quality of the product."""
    return word in QUALITIES or word.endswith(("proof", "able", "ible", "weight"))


ACTIVITIES = {
    stem(word): activity for word, activity in (pair.split(":") for pair in _ACTIVITY_TEXT.split())
}
"""What a product may be for, by the stem of the word: the ``activity.*`` message key."""


@dataclass(frozen=True, slots=True)
class Reason:
    """A reason as message ``reason.<key>`` with its values.

    Attributes:
        key: ``similar``, ``goes_with``, ``popular_for`` … (the ``reason.*`` messages).
        values: ``(name, value)`` pairs; an ``activity`` value is an ``activity.*`` key.
    """

    key: str
    values: tuple[tuple[str, str], ...] = ()

    def text(self, lang: Messages) -> str:
        """The reason in ``lang``: ``"Popular for hiking"``, ``"Popular para senderismo"``."""
        values = dict(self.values)
        if "activity" in values:
            values["activity"] = lang.text(f"activity.{values['activity']}")
        return lang.text(f"reason.{self.key}", **values)


def reason(key: str, **values: str) -> Reason:
    """``reason("made_for", activity="running")``."""
    return Reason(key, tuple(values.items()))
