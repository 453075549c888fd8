"""Labelled examples for the reading heads, from ``data/lang/<language>/*.yml`` and the
held-out files ``data/eval/reading-*.yml``.

Training files group examples under their label (Rasa NLU YAML style: ``acts: - act: request
examples: [...]``); held-out files list one labelled example per entry with its language. Both
read into the same flat records, so a head is trained and scored by the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.config import ROOT
from bot.errors import ConciergeError
from bot.nlu.reading import ACTS, FEELINGS
from bot.nlu.screening import SCREENING_LABELS

LANGUAGE_ROOT = ROOT / "data" / "lang"


class ReadingDataError(ConciergeError):
    """A reading-head data file that does not have the documented shape."""


@dataclass(frozen=True, slots=True)
class ActExample:
    text: str
    act: str
    after: str
    language: str


@dataclass(frozen=True, slots=True)
class FeelingExample:
    text: str
    feeling: str
    language: str


@dataclass(frozen=True, slots=True)
class FollowUpExample:
    before: str
    text: str
    follow_up: bool
    language: str


@dataclass(frozen=True, slots=True)
class ScreeningExample:
    text: str
    label: str
    """``none`` or a :data:`bot.nlu.screening.RequestCategory`."""
    language: str


@dataclass(frozen=True, slots=True)
class ChoiceExample:
    options: tuple[str, ...]
    text: str
    pick: int
    """1-based option number; 0 = none of them."""
    language: str


def language_files(name: str, root: Path = LANGUAGE_ROOT) -> list[tuple[str, Path]]:
    """``(language, path)`` of every ``<root>/<language>/<name>`` file, sorted."""
    return [(p.parent.name, p) for p in sorted(root.glob(f"*/{name}"))]


def _load(path: Path, key: str) -> list[Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ReadingDataError(f"{path}: {exc}") from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get(key), list):
        raise ReadingDataError(f"{path}: expected a mapping with a `{key}` list")
    items: list[Any] = raw[key]
    return items


def _examples(group: Mapping[str, Any], path: Path) -> Iterator[Any]:
    examples = group.get("examples")
    if isinstance(examples, str):  # an `examples: |` block of "- text" lines
        for line in examples.splitlines():
            line = line.strip()
            if line.startswith("- "):
                yield {"text": line[2:].strip()}
        return
    if not isinstance(examples, list):
        raise ReadingDataError(f"{path}: each group needs `examples`")
    yield from examples


def load_acts(path: Path, language: str | None = None) -> list[ActExample]:
    """Acts from a training file (grouped) or a held-out file (flat, with ``language``)."""
    found = []
    for item in _load(path, "acts"):
        if "examples" in item:
            for example in _examples(item, path):
                found.append(_act(example, str(item.get("act")), language, path))
        else:
            found.append(_act(item, str(item.get("act")), language, path))
    return found


def _act(item: Any, act: str, language: str | None, path: Path) -> ActExample:
    if act not in ACTS:
        raise ReadingDataError(f"{path}: unknown act {act!r}")
    return ActExample(
        _text(item, path), act, str(item.get("after") or ""), _language(item, language, path)
    )


def load_feelings(path: Path, language: str | None = None) -> list[FeelingExample]:
    found = []
    for item in _load(path, "frustration"):
        if "examples" in item:
            for example in _examples(item, path):
                found.append(_feeling(example, str(item.get("label")), language, path))
        else:
            found.append(_feeling(item, str(item.get("label")), language, path))
    return found


def _feeling(item: Any, label: str, language: str | None, path: Path) -> FeelingExample:
    if label not in FEELINGS:
        raise ReadingDataError(f"{path}: unknown frustration label {label!r}")
    return FeelingExample(_text(item, path), label, _language(item, language, path))


def load_follow_ups(path: Path, language: str | None = None) -> list[FollowUpExample]:
    found = []
    for item in _load(path, "followups"):
        before = str(item.get("before") or "")
        if not before:
            raise ReadingDataError(f"{path}: every entry needs `before`")
        examples = _examples(item, path) if "examples" in item else [item]
        for example in examples:
            if not isinstance(example.get("follow_up"), bool):
                raise ReadingDataError(f"{path}: `follow_up` must be true or false")
            found.append(
                FollowUpExample(
                    before,
                    _text(example, path),
                    example["follow_up"],
                    _language(example if "language" in example else item, language, path),
                )
            )
    return found


def load_screening(path: Path, language: str | None = None) -> list[ScreeningExample]:
    """Screening labels from a training file (grouped) or a held-out file (flat)."""
    found = []
    for item in _load(path, "screening"):
        label = str(item.get("label"))
        if label not in SCREENING_LABELS:
            raise ReadingDataError(f"{path}: unknown screening label {label!r}")
        examples = _examples(item, path) if "examples" in item else [item]
        for example in examples:
            found.append(
                ScreeningExample(_text(example, path), label, _language(example, language, path))
            )
    return found


def load_choices(path: Path, language: str | None = None) -> list[ChoiceExample]:
    found = []
    for item in _load(path, "choices"):
        options = item.get("options")
        if not isinstance(options, list) or not options:
            raise ReadingDataError(f"{path}: every entry needs a list of `options`")
        examples = _examples(item, path) if "examples" in item else [item]
        for example in examples:
            pick = example.get("pick")
            if not isinstance(pick, int) or not 0 <= pick <= len(options):
                raise ReadingDataError(f"{path}: `pick` must be 0..{len(options)}, got {pick!r}")
            found.append(
                ChoiceExample(
                    tuple(str(o) for o in options),
                    _text(example, path),
                    pick,
                    _language(example if "language" in example else item, language, path),
                )
            )
    return found


def _text(item: Any, path: Path) -> str:
    text = item.get("text") if isinstance(item, Mapping) else None
    if not isinstance(text, str) or not text.strip():
        raise ReadingDataError(f"{path}: an example without text: {item!r}")
    return text.strip()


def _language(item: Any, language: str | None, path: Path) -> str:
    found = item.get("language") if isinstance(item, Mapping) else None
    if found:
        return str(found)
    if language:
        return language
    raise ReadingDataError(f"{path}: an example without a language")


def load_training(name: str, root: Path = LANGUAGE_ROOT) -> Sequence[Any]:
    """Every language's training examples of one head (``acts``, ``frustration`` …)."""
    loaders: dict[str, Callable[[Path, str | None], Sequence[Any]]] = {
        "acts": load_acts,
        "frustration": load_feelings,
        "followups": load_follow_ups,
        "choices": load_choices,
        "screening": load_screening,
    }
    loader = loaders[name]
    examples: list[Any] = []
    # <name>.yml and any further files beside it (acts-2.yml, ...)
    for language, path in language_files(f"{name}*.yml", root):
        examples.extend(loader(path, language))
    return examples
