"""Language identification: how often a conversation's language is right, and how fast.

Usage (from the repository root)::

    python benchmarks/language.py
    python benchmarks/language.py --held-out     # also the held-out intent sets (report only)

Every intent example of ``data/nlu.yml`` and ``data/lang/<code>/nlu.yml`` (labelled by its
file's language) is read by :class:`bot.nlu.language.LanguageDetector` three ways: as a
conversation's first message, as a message in the conversation's own language (it must keep
it), and as a message in another language than the conversation's so far (it should switch).
Unrelated strings (gibberish, ids, emails) must not move an English conversation. A grid of
the two bars is printed (the shipped ones marked) and JSON written
(``benchmarks/results/language.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.nlu.language import LanguageDetector  # noqa: E402
from bot.nlu.training_data import load_nlu_yaml  # noqa: E402

NOISE = (
    "qwzx blorp fnord",
    "zzkq vrrp",
    "asdf jkl",
    "lorem ipsum dolor",
    "hmmmm",
    "blah blah blah",
    "ok",
    "#1234567",
    "emma@example.com",
    "W2378156",
)
GRID = ((0.4, 0.5), (0.5, 0.5), (0.5, 0.6), (0.5, 0.7), (0.6, 0.7))


def labelled(paths: list[tuple[str, Path]]) -> list[tuple[str, str]]:
    return [(e.text, code) for code, path in paths for e in load_nlu_yaml(path).examples]


def measure(detector: LanguageDetector, data: list[tuple[str, str]]) -> dict[str, Any]:
    first: dict[str, list[bool]] = {}
    for text, code in data:
        first.setdefault(code, []).append(detector.choose(text, None)[0] == code)
    stay = [detector.choose(text, code)[0] == code for text, code in data]
    other = {code: ("de" if code == "en" else "en") for code in {c for _, c in data}}
    switch = [detector.choose(text, other[code])[0] == code for text, code in data]
    moved = [detector.choose(text, "en")[0] != "en" for text in NOISE]
    every = [ok for oks in first.values() for ok in oks]
    return {
        "first_message": round(sum(every) / len(every), 4),
        "first_message_by_language": {
            k: round(sum(v) / len(v), 4) for k, v in sorted(first.items())
        },
        "keeps_its_language": round(sum(stay) / len(stay), 4),
        "switches_when_it_should": round(sum(switch) / len(switch), 4),
        "noise_that_moved_an_english_conversation": sum(moved),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--held-out", action="store_true", help="also data/eval/intents-*.yml")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/language.json")
    args = parser.parse_args()
    training = [("en", ROOT / "data/nlu.yml")]
    training += [(p.parent.name, p) for p in sorted((ROOT / "data/lang").glob("*/nlu.yml"))]
    data = labelled(training)
    shipped = LanguageDetector()
    shipped.load()
    results: dict[str, Any] = {"examples": len(data), "grid": []}
    print(f"{len(data)} labelled messages in {len(training)} languages")
    print(f"{'first/switch bar':18} {'first':>7} {'keeps':>7} {'switches':>9} {'noise moved':>12}")
    for first_bar, switch_bar in GRID:
        detector = LanguageDetector(min_confidence=first_bar, switch_confidence=switch_bar)
        row = {
            "min_confidence": first_bar,
            "switch_confidence": switch_bar,
            **measure(detector, data),
        }
        results["grid"].append(row)
        mark = " (shipped)" if (first_bar, switch_bar) == (0.5, 0.6) else ""
        print(
            f"{first_bar:.1f} / {switch_bar:.1f}{mark:11} {100 * row['first_message']:6.1f}% "
            f"{100 * row['keeps_its_language']:6.1f}% {100 * row['switches_when_it_should']:8.1f}% "
            f"{row['noise_that_moved_an_english_conversation']:>8}/{len(NOISE)}"
        )
    started = time.perf_counter()
    for text, _ in data:
        shipped.guess(text)
    results["ms_per_message"] = round(1000 * (time.perf_counter() - started) / len(data), 3)
    print(f"detection: {results['ms_per_message']} ms per message")
    if args.held_out:
        held = [
            (p.stem.split("-")[-1], p) for p in sorted((ROOT / "data/eval").glob("intents-*.yml"))
        ]
        results["held_out"] = measure(shipped, labelled(held))
        print("held-out intent sets, shipped bars:", json.dumps(results["held_out"]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
