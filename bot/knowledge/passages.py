"""Passages of the shop's knowledge base and the markdown splitter that produces them.

A knowledge file is ``# Title`` followed by ``## Section`` headings; each section is one passage
that answers one question. A section may declare the NLU intents it answers in an HTML comment
right under its heading (``<!-- intents: check_refund_policy, get_refund -->``); retrieval uses
them as a hint. It may also list example questions that it answers, one per line, in a
``<!-- questions: ... -->`` comment; shoppers' questions are matched against them as well as
against the text, because a question is closer to another wording of itself than to the
policy sentence that answers it. Comments never reach the shopper.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ConfigError

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_INTENTS = re.compile(r"<!--\s*intents\s*:\s*(.*?)\s*-->", re.IGNORECASE | re.DOTALL)
_QUESTIONS = re.compile(r"<!--\s*questions\s*:(.*?)-->", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]*)[^)]*\)")
_EMPHASIS = (
    re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"),
    re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"),
    re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])"),
    re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"),
)
_CODE = re.compile(r"`([^`]*)`")
_LIST_ITEM = re.compile(r"^([-*+]|\d+[.)])\s+(.*)$")
_SLUG_DROP = re.compile(r"[^a-z0-9\s-]")


@dataclass(frozen=True, slots=True)
class Passage:
    """One section of a knowledge file, ready to show to a shopper or to put in a prompt.

    Attributes:
        id: ``"<source>#<heading slug>"``, e.g. ``"returns.md#return-window"``; unique in a base.
        source: the file's path relative to the knowledge directory, with ``/`` separators.
        title: the file's ``#`` title, kept as context for the section.
        heading: the section's ``##`` heading.
        text: the section's body as plain text (emphasis stripped, list items kept as ``- ``).
        intents: NLU intents the section declares it answers, possibly empty.
        questions: example shopper questions the section answers, possibly empty.
    """

    id: str
    source: str
    title: str
    heading: str
    text: str
    intents: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()

    @property
    def embedding_text(self) -> str:
        """What retrieval embeds: the title and heading give a short passage its topic."""
        return f"{self.title}. {self.heading}. {self.text}"


def slugify(heading: str) -> str:
    """GitHub-style anchor: lower case, punctuation dropped, spaces to hyphens."""
    slug = _SLUG_DROP.sub("", strip_inline_markdown(heading).lower())
    return re.sub(r"[\s-]+", "-", slug).strip("-")


def strip_inline_markdown(text: str) -> str:
    """Removes emphasis, code ticks and link syntax, keeping the words a reader sees."""
    text = _LINK.sub(lambda m: m.group(1) or m.group(2), text)
    text = _CODE.sub(r"\1", text)
    for pattern in _EMPHASIS:
        text = pattern.sub(lambda m: m.group(m.lastindex or 0), text)
    return text


def _plain_body(lines: list[str]) -> str:
    """Joins a section's lines into display text: paragraphs re-flowed, list items kept.

    List items stay one per line (``*``/``+`` bullets become ``-``), paragraphs are separated by
    a blank line, so a list still reads as a list in a chat bubble or a prompt.
    """
    blocks: list[tuple[bool, str]] = []  # (is list item, text)
    paragraph: list[str] = []
    for raw in [*lines, ""]:
        line = raw.strip()
        item = _LIST_ITEM.match(line)
        if (not line or item) and paragraph:
            blocks.append((False, " ".join(paragraph)))
            paragraph.clear()
        if item:
            marker = "-" if item.group(1) in "*+-" else item.group(1)
            blocks.append((True, f"{marker} {strip_inline_markdown(item.group(2))}"))
        elif line:
            paragraph.append(strip_inline_markdown(line))
    text = ""
    for index, (is_item, block) in enumerate(blocks):
        if index:
            text += "\n" if is_item and blocks[index - 1][0] else "\n\n"
        text += block
    return text


def _listed(block: str) -> list[str]:
    """The non-empty lines of a comment block, without list markers."""
    lines = (line.strip() for line in block.split("\n"))
    items = (match.group(2) if (match := _LIST_ITEM.match(line)) else line for line in lines)
    return [strip_inline_markdown(item).strip() for item in items if item.strip()]


def split_markdown(markdown: str, source: str) -> list[Passage]:
    """Splits one knowledge file into passages, one per ``##`` section.

    Text before the first ``##`` (other than the ``#`` title) is ignored: it introduces the
    file rather than answering a question. Sections with an empty body are skipped.

    Args:
        markdown: the file's content.
        source: the file's path relative to the knowledge directory, used in passage ids.

    Returns:
        The file's passages in document order.

    Raises:
        ValueError: two sections of the file have the same heading (their ids would clash).
    """
    markdown = markdown.replace("\r\n", "\n")
    title = Path(source).stem.replace("-", " ").replace("_", " ").capitalize()
    sections: list[tuple[str, list[str]]] = []
    for line in markdown.split("\n"):
        match = _HEADING.match(line)
        level = len(match.group(1)) if match else 0
        if match and level == 1:
            title = strip_inline_markdown(match.group(2))
        elif match and level == 2:
            sections.append((strip_inline_markdown(match.group(2)), []))
        elif sections:
            sections[-1][1].append(line)

    passages: list[Passage] = []
    seen: set[str] = set()
    for heading, lines in sections:
        body = "\n".join(lines)
        intents = tuple(
            name.strip()
            for found in _INTENTS.findall(body)
            for name in found.split(",")
            if name.strip()
        )
        questions = tuple(q for found in _QUESTIONS.findall(body) for q in _listed(found))
        text = _plain_body(_COMMENT.sub("", body).split("\n"))
        if not text:
            continue
        passage_id = f"{source}#{slugify(heading)}"
        if passage_id in seen:
            raise ValueError(f"{source}: two sections are headed {heading!r}")
        seen.add(passage_id)
        passages.append(Passage(passage_id, source, title, heading, text, intents, questions))
    return passages


def load_passages(directory: Path) -> list[Passage]:
    """Reads every ``*.md`` file under ``directory`` (recursively, in path order) into passages.

    Args:
        directory: the knowledge directory, e.g. ``data/knowledge``, or one markdown file
            (another shop's single policy document, say).

    Returns:
        All passages, ordered by file path and then by position in the file.

    Raises:
        ConfigError: the path is missing or neither a folder nor a ``.md`` file, holds no
            markdown passages, a file cannot be read or decoded as UTF-8, or two passages
            share an id.
    """
    key = "knowledge.directory"
    if directory.is_file() and directory.suffix == ".md":
        files, root = [directory], directory.parent
    elif directory.is_dir():
        # Not is_file(): a broken link named *.md must fail loudly, not vanish from the base.
        files, root = sorted(p for p in directory.rglob("*.md") if not p.is_dir()), directory
    else:
        raise ConfigError(key, f"{directory} is neither a directory nor a markdown file")
    passages: list[Passage] = []
    for path in files:
        source = path.relative_to(root).as_posix()
        try:
            markdown = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(key, f"cannot read {path}: {exc}") from exc
        try:
            passages.extend(split_markdown(markdown, source))
        except ValueError as exc:
            raise ConfigError(key, f"{path}: {exc}") from exc
    if not passages:
        raise ConfigError(key, f"{directory} holds no markdown passages (## sections in *.md)")
    return passages
