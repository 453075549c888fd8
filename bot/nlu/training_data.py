"""NLU training data: Rasa NLU YAML with inline entity annotations, and the Bitext CSV.

Rasa writes entities inside the example text, ``my email is [jane@example.com](email)``, or
with a normalised value, ``[NYC]{"entity": "city", "value": "New York"}``. Parsing strips the
markup and keeps the character offsets in the plain text, which is what the extractors and their
tests compare against.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConciergeError

SUPPORTED_SECTIONS = ("intent", "synonym")

# [text](entity) or [text](entity:value) or [text]{"entity": ..., "value": ...}
_ANNOTATION = re.compile(r"\[(?P<text>[^\[\]]+)\](?:\((?P<short>[^()]+)\)|(?P<json>\{[^{}]*\}))")
_NAME = re.compile(r"^[A-Za-z_][\w\-]*$")


class TrainingDataError(ConciergeError):
    """Malformed training data, with the file and the line it was found on."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


@dataclass(frozen=True, slots=True)
class EntitySpan:
    """One annotated entity; ``start``/``end`` index the plain text (end exclusive)."""

    entity: str
    value: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Example:
    """One training utterance with its intent and annotated entities."""

    text: str
    intent: str
    entities: tuple[EntitySpan, ...] = ()
    source: str = ""


@dataclass(frozen=True, slots=True)
class TrainingData:
    """Examples plus entity synonyms (surface form, lower-cased -> canonical value)."""

    examples: tuple[Example, ...]
    synonyms: tuple[tuple[str, str], ...] = ()

    @property
    def intents(self) -> tuple[str, ...]:
        """Intent names in first-seen order."""
        return tuple(dict.fromkeys(e.intent for e in self.examples))

    def counts(self) -> dict[str, int]:
        """Examples per intent."""
        return dict(Counter(e.intent for e in self.examples))

    def fingerprint(self) -> str:
        """A sha256 over texts and labels, recorded in model metadata to trace what trained it."""
        digest = hashlib.sha256()
        for example in self.examples:
            digest.update(f"{example.intent}\t{example.text}\n".encode())
        return digest.hexdigest()

    def merged(self, other: Iterable[Example]) -> TrainingData:
        """A copy with more examples appended."""
        return TrainingData(self.examples + tuple(other), self.synonyms)


def parse_annotated(text: str, *, where: str = "<text>", line: int | None = None) -> Example:
    """Strips Rasa entity markup from one example, returning plain text and entity spans.

    Args:
        text: The example as written, e.g. ``order [#4821937](order_id) please``.
        where: File name used in error messages.
        line: Line number used in error messages.

    Returns:
        An :class:`Example` with an empty intent; the caller fills it in.

    Raises:
        TrainingDataError: If an annotation is malformed (bad JSON, missing entity name, or an
            unbalanced bracket).
    """
    plain: list[str] = []
    entities: list[EntitySpan] = []
    cursor = 0
    length = 0
    for match in _ANNOTATION.finditer(text):
        before = text[cursor : match.start()]
        plain.append(before)
        length += len(before)
        surface = match.group("text")
        entity, value = _annotation_target(match, surface, where, line)
        entities.append(EntitySpan(entity, value, length, length + len(surface)))
        plain.append(surface)
        length += len(surface)
        cursor = match.end()
    plain.append(text[cursor:])
    result = "".join(plain)
    leftover = re.search(r"\]\(|\]\{", result)
    if leftover is not None or result.count("[") != result.count("]"):
        raise TrainingDataError(where, line, f"unbalanced entity annotation in {text!r}")
    return Example(result.strip(), "", tuple(_shift(entities, result)))


def _shift(entities: list[EntitySpan], raw: str) -> list[EntitySpan]:
    # The example is stripped of surrounding whitespace; offsets follow the stripped text.
    offset = len(raw) - len(raw.lstrip())
    return [EntitySpan(e.entity, e.value, e.start - offset, e.end - offset) for e in entities]


def _annotation_target(
    match: re.Match[str], surface: str, where: str, line: int | None
) -> tuple[str, str]:
    if match.group("short") is not None:
        entity, _, value = match.group("short").partition(":")
        entity, value = entity.strip(), value.strip() or surface
    else:
        try:
            spec: Any = json.loads(match.group("json"))
        except json.JSONDecodeError as exc:
            raise TrainingDataError(
                where, line, f"bad entity JSON {match.group('json')}: {exc}"
            ) from exc
        if not isinstance(spec, dict) or not isinstance(spec.get("entity"), str):
            raise TrainingDataError(where, line, f"entity JSON needs an 'entity' key: {spec!r}")
        entity, value = spec["entity"], str(spec.get("value", surface))
    if not _NAME.match(entity):
        raise TrainingDataError(where, line, f"bad entity name {entity!r}")
    return entity, value


def load_nlu_yaml(path: Path) -> TrainingData:
    """Reads a Rasa NLU YAML file (``version: "3.1"``, ``nlu:`` with ``intent``/``synonym``).

    Args:
        path: The YAML file.

    Returns:
        The examples in file order and the synonyms.

    Raises:
        TrainingDataError: If the file is missing, is not valid YAML, or an entry is malformed;
            the message names the file and line.
    """
    where = str(path)
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TrainingDataError(where, None, f"cannot read: {exc.strerror}") from exc
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise TrainingDataError(
            where, mark.line + 1 if mark else None, f"invalid YAML: {exc.problem}"
        ) from exc
    if not isinstance(root, yaml.MappingNode):
        raise TrainingDataError(where, 1, "expected a mapping with an 'nlu' key")
    nlu = _child(root, "nlu")
    if not isinstance(nlu, yaml.SequenceNode):
        raise TrainingDataError(where, _line(nlu or root), "'nlu' must be a list of entries")
    examples: list[Example] = []
    synonyms: list[tuple[str, str]] = []
    for entry in nlu.value:
        kind, name, lines = _read_entry(entry, where)
        if kind == "synonym":
            synonyms.extend((text.lower(), name) for text, _ in lines)
            continue
        for text, line in lines:
            example = parse_annotated(text, where=where, line=line)
            examples.append(Example(example.text, name, example.entities, f"{where}:{line}"))
    if not examples:
        raise TrainingDataError(where, _line(nlu), "no intent examples found")
    return _apply_synonyms(TrainingData(tuple(examples), tuple(synonyms)))


def _read_entry(entry: yaml.Node, where: str) -> tuple[str, str, list[tuple[str, int]]]:
    """One ``- intent: X`` / ``- synonym: X`` entry as (kind, name, [(example, line)])."""
    if not isinstance(entry, yaml.MappingNode):
        raise TrainingDataError(where, _line(entry), "each 'nlu' entry must be a mapping")
    keys = {k.value for k, _ in entry.value if isinstance(k, yaml.ScalarNode)}
    kind = next((k for k in SUPPORTED_SECTIONS if k in keys), None)
    if kind is None:
        raise TrainingDataError(
            where,
            _line(entry),
            f"unsupported entry with keys {sorted(keys)}; "
            f"supported: {', '.join(SUPPORTED_SECTIONS)}",
        )
    name_node = _child(entry, kind)
    body = _child(entry, "examples")
    if not isinstance(name_node, yaml.ScalarNode) or not str(name_node.value).strip():
        raise TrainingDataError(where, _line(name_node or entry), f"missing {kind} name")
    name = str(name_node.value).strip()
    if kind == "intent" and not _NAME.match(name):
        raise TrainingDataError(where, _line(name_node), f"bad intent name {name!r}")
    if not isinstance(body, yaml.ScalarNode):
        raise TrainingDataError(
            where, _line(body or entry), f"{kind} {name!r} needs 'examples: |' text"
        )
    return kind, name, _example_lines(body, where, f"{kind} {name!r}")


def _example_lines(body: yaml.ScalarNode, where: str, owner: str) -> list[tuple[str, int]]:
    # A block scalar's content starts on the line after its "|" indicator.
    first_line = body.start_mark.line + (2 if body.style == "|" else 1)
    lines: list[tuple[str, int]] = []
    for index, raw in enumerate(str(body.value).splitlines()):
        stripped = raw.strip()
        if not stripped:
            continue
        if not stripped.startswith("- ") or not stripped[2:].strip():
            raise TrainingDataError(
                where, first_line + index, f"{owner}: examples must be '- text' lines"
            )
        lines.append((stripped[2:].strip(), first_line + index))
    if not lines:
        raise TrainingDataError(where, first_line, f"{owner} has no examples")
    return lines


def _apply_synonyms(data: TrainingData) -> TrainingData:
    if not data.synonyms:
        return data
    table = dict(data.synonyms)
    examples = tuple(
        Example(
            e.text,
            e.intent,
            tuple(
                EntitySpan(s.entity, table.get(s.value.lower(), s.value), s.start, s.end)
                for s in e.entities
            ),
            e.source,
        )
        for e in data.examples
    )
    return TrainingData(examples, data.synonyms)


def _child(mapping: yaml.MappingNode, key: str) -> yaml.Node | None:
    for key_node, value_node in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            found: yaml.Node = value_node
            return found
    return None


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def load_bitext_csv(path: Path, *, intents: Collection[str] | None = None) -> list[Example]:
    """Reads the Bitext customer-support CSV in place (columns ``instruction``, ``intent``).

    Args:
        path: The CSV file (CDLA-Sharing-1.0; never copy it into the repository).
        intents: If given, rows with other intents are skipped.

    Returns:
        One example per row, in file order, without entities (Bitext's entity types are not
        ours).

    Raises:
        TrainingDataError: If the file is missing or lacks the needed columns.
    """
    where = str(path)
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise TrainingDataError(where, None, f"cannot read: {exc.strerror}") from exc
    with handle:
        reader = csv.DictReader(handle)
        missing = {"instruction", "intent"} - set(reader.fieldnames or ())
        if missing:
            raise TrainingDataError(where, 1, f"missing columns {sorted(missing)}")
        examples = []
        for row in reader:
            text, intent = (row["instruction"] or "").strip(), (row["intent"] or "").strip()
            if text and intent and (intents is None or intent in intents):
                examples.append(Example(text, intent, (), f"{where}:{reader.line_num}"))
    return examples
