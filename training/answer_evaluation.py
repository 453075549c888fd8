"""Held-out answer-quality evaluation: does the bot answer shop-policy questions correctly?

``python -m bot eval-answers`` loads the hand-written cases in ``data/eval/answers.yml``, asks the
answering layer each question through an :data:`AnswerFn` and scores the replies:

- **correctness**: an ``expect: answer`` case is correct when the reply contains one alternative
  of every ``must_include`` group and none of ``must_not_include``, whatever its kind. A
  ``handoff`` or ``deflect`` case is correct when the outcome's kind is ``handoff``,
  ``deflected`` or ``fallback`` or it offered a person, and it contains none of
  ``must_not_include``.
- **faithfulness**: of the replies of kind ``generated`` or ``passage`` (whatever the case
  expects), the share whose every checked claim the outcome's evidence supports according to
  :func:`bot.generation.guard.check_answer`.

Matching is on normalised text (:func:`normalize`): NFKC, lower case, whitespace collapsed, curly
quotes and dashes made straight; the needle's trailing punctuation is dropped, and a needle that
starts or ends with a letter or digit must do so on a word edge ("30 days" is not in "130 days").
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from tqdm import tqdm

from bot.generation.guard import GuardVerdict, check_answer
from bot.stats import percentile

Expect = Literal["answer", "handoff", "deflect"]
OutcomeKind = Literal["generated", "passage", "fallback", "deflected", "handoff", "action"]
Guard = Callable[[str, Sequence[str]], GuardVerdict]

_ANSWERED = frozenset({"generated", "passage"})
_DECLINED = frozenset({"handoff", "deflected", "fallback"})
_EXPECTS: dict[object, Expect] = {"answer": "answer", "handoff": "handoff", "deflect": "deflect"}
_FIELDS = (
    "id",
    "before",
    "question",
    "expect",
    "must_include",
    "must_not_include",
    "source",
    "language",
)
_STRAIGHTEN = str.maketrans(
    {**dict.fromkeys("‘’‚‛′", "'"), **dict.fromkeys("“”„‟″", '"'), **dict.fromkeys("‐‑‒–—―−", "-")}
)
_TRAILING = ".,;:!?"


@dataclass(frozen=True, slots=True)
class AnswerCase:
    """One held-out question and what a good reply must (not) say.

    Attributes:
        id: unique, stable name used in reports, e.g. ``"returns-window-1"``.
        question: the shopper's message.
        expect: ``answer`` (the knowledge base answers it), ``handoff`` (it does not: say so and
            offer a person) or ``deflect`` (out of scope, injection, other customers' data).
        must_include: groups of alternatives; one alternative of every group must appear.
        must_not_include: needles that must not appear in the reply.
        source: the knowledge file holding the answer, e.g. ``"returns.md"``.
        before: earlier shopper messages of the conversation, oldest first, that
            ``question`` may follow up ("what about klarna?"); empty for a first question.
    """

    id: str
    question: str
    expect: Expect
    must_include: tuple[tuple[str, ...], ...] = ()
    must_not_include: tuple[str, ...] = ()
    source: str | None = None
    before: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AnswerOutcome:
    """What the answering layer did with one question.

    Attributes:
        text: the reply the shopper would see.
        kind: ``generated`` (a model answer that passed the guard), ``passage`` (the guard
            rejected the model's answer or there is no model: the best passage was sent),
            ``fallback`` (nothing relevant was found), ``deflected`` (screening refused the
            request), ``handoff`` (a person was offered or took over) or ``action`` (the
            policy started a business flow or a canned response instead: never correct).
        evidence: the passages or facts the reply was grounded on.
        sources: ids of those passages, e.g. ``"returns.md#return-window"``.
        offered_handoff: whether the reply offered a person.
        latency_s: seconds the answer took; 0 lets :func:`evaluate` use its own measurement.
    """

    text: str
    kind: OutcomeKind
    evidence: tuple[str, ...]
    sources: tuple[str, ...] = ()
    offered_handoff: bool = False
    latency_s: float = 0.0


AnswerFn = Callable[[AnswerCase], Awaitable[AnswerOutcome]]


def normalize(text: str) -> str:
    """NFKC, straight quotes and dashes, lower case, whitespace collapsed to single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_STRAIGHTEN).lower().split())


def contains(text: str, needle: str) -> bool:
    """Whether ``needle`` (e.g. ``"$6.50."``) occurs in ``text``; see the module docstring."""
    wanted = normalize(needle).rstrip(_TRAILING).rstrip()
    if not wanted:
        return False
    left = r"(?<!\w)" if wanted[0].isalnum() else ""
    right = r"(?!\w)" if wanted[-1].isalnum() else ""
    return re.search(left + re.escape(wanted) + right, normalize(text)) is not None


def load_cases(path: Path) -> list[AnswerCase]:
    """Reads evaluation cases from a YAML list (schema in ``data/eval/answers.yml``).

    A ``must_include`` group may be a single string instead of a one-item list.

    Raises:
        OSError: the file cannot be read.
        ValueError: malformed YAML or an invalid case; names its index, id and field.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{path}: expected a non-empty list of cases")
    cases: list[AnswerCase] = []
    for index, entry in enumerate(raw):
        case = _parse_case(entry, f"{path}: case {index}")
        if any(case.id == seen.id for seen in cases):
            raise ValueError(f"{path}: case {index} ({case.id!r}): field 'id': duplicate id")
        cases.append(case)
    return cases


def _parse_case(entry: object, where: str) -> AnswerCase:
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: expected a mapping, got {type(entry).__name__}")
    if isinstance(entry.get("id"), str) and entry["id"].strip():
        where = f"{where} ({entry['id'].strip()!r})"

    def fail(name: str, problem: str) -> ValueError:
        return ValueError(f"{where}: field {name!r}: {problem}")

    def strings(value: object, name: str, prefix: str = "") -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise fail(name, f"{prefix}must be a non-empty list of strings")
        for item in value:
            if not isinstance(item, str) or not item.strip(" \t\n" + _TRAILING):
                raise fail(name, f"{prefix}{item!r} is not a non-empty string")
        return tuple(item.strip() for item in value)

    if unknown := sorted(str(key) for key in entry if key not in _FIELDS):
        raise fail(unknown[0], f"unknown field (allowed: {', '.join(_FIELDS)})")
    for name in ("id", "question"):
        if not isinstance(entry.get(name), str) or not entry[name].strip():
            raise fail(name, "must be a non-empty string")
    expect = _EXPECTS.get(entry.get("expect"))
    if expect is None:
        raise fail(
            "expect", f"must be one of {', '.join(get_args(Expect))}, got {entry.get('expect')!r}"
        )
    raw_groups = entry.get("must_include") or []
    if not isinstance(raw_groups, list):
        raise fail("must_include", "must be a list of groups (lists of alternatives)")
    groups = tuple(
        strings([g] if isinstance(g, str) else g, "must_include", f"group {i}: ")
        for i, g in enumerate(raw_groups)
    )
    if expect == "answer" and not groups:
        raise fail("must_include", "an 'answer' case needs at least one group")
    if expect != "answer" and groups:
        raise fail("must_include", f"only 'answer' cases list facts; this one expects {expect}")
    forbidden: tuple[str, ...] = ()
    if entry.get("must_not_include") is not None:
        forbidden = strings(entry["must_not_include"], "must_not_include")
    source = entry.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise fail("source", "must be a knowledge file name or absent")
    before = strings(entry["before"], "before") if entry.get("before") is not None else ()
    return AnswerCase(
        entry["id"].strip(),
        entry["question"].strip(),
        expect,
        groups,
        forbidden,
        source.strip() if source else None,
        before,
    )


@dataclass(frozen=True, slots=True)
class CaseResult:
    """How one case was scored.

    Attributes:
        case: the case.
        outcome: what the answering layer returned.
        correct: see the module docstring.
        missing: ``must_include`` groups none of whose alternatives the reply contains.
        forbidden: ``must_not_include`` needles the reply contains.
        faithful: the guard's verdict; None for replies that do not answer (not generated or
            passage).
        unsupported: the guard's reasons, e.g. "unsupported period '45 days'".
        latency_s: the outcome's latency, or the measured call time when it reported 0.
    """

    case: AnswerCase
    outcome: AnswerOutcome
    correct: bool
    missing: tuple[tuple[str, ...], ...]
    forbidden: tuple[str, ...]
    faithful: bool | None
    unsupported: tuple[str, ...]
    latency_s: float

    def to_json(self) -> dict[str, Any]:
        """The case, the reply and its scores as JSON-ready data."""
        return {
            "id": self.case.id,
            "question": self.case.question,
            "expect": self.case.expect,
            "source": self.case.source,
            "kind": self.outcome.kind,
            "text": self.outcome.text,
            "sources": list(self.outcome.sources),
            "offered_handoff": self.outcome.offered_handoff,
            "correct": self.correct,
            "faithful": self.faithful,
            "missing": [list(group) for group in self.missing],
            "forbidden": list(self.forbidden),
            "unsupported": list(self.unsupported),
            "latency_s": self.latency_s,
        }


def score(
    case: AnswerCase, outcome: AnswerOutcome, *, guard: Guard = check_answer, latency_s: float = 0
) -> CaseResult:
    """Scores one outcome against its case: correctness, and faithfulness if it answered."""
    missing = tuple(g for g in case.must_include if not any(contains(outcome.text, n) for n in g))
    forbidden = tuple(n for n in case.must_not_include if contains(outcome.text, n))
    declined = outcome.kind in _DECLINED or outcome.offered_handoff
    correct = not forbidden and (not missing if case.expect == "answer" else declined)
    faithful: bool | None = None
    unsupported: tuple[str, ...] = ()
    if outcome.kind in _ANSWERED:
        verdict = guard(outcome.text, outcome.evidence)
        faithful, unsupported = verdict.ok, verdict.reasons
    return CaseResult(
        case,
        outcome,
        correct,
        missing,
        forbidden,
        faithful,
        unsupported,
        outcome.latency_s or latency_s,
    )


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def _tally(results: Sequence[CaseResult], key: Callable[[CaseResult], str]) -> dict[str, Any]:
    groups: dict[str, list[bool]] = {}
    for r in results:
        groups.setdefault(key(r), []).append(r.correct)
    return {k: {"correct": sum(v), "total": len(v)} for k, v in sorted(groups.items())}


@dataclass(frozen=True, slots=True)
class AnswerReport:
    """The scores of one run (see :meth:`from_results`); a rate is None when nothing counts.

    Attributes:
        results: every case's result, in case order.
        n: number of cases.
        correctness: correct cases over all cases (``per_expect`` splits it by expectation).
        faithfulness: guard-approved replies over replies of kind generated or passage.
        fallback_rate: ``expect: answer`` cases of kind passage, fallback or action (the
            model's answer was not used) over ``expect: answer`` cases.
        generated_share: ``expect: answer`` cases of kind generated over the same.
        handoff_rate: cases of kind handoff or with ``offered_handoff`` over all cases.
        per_source: ``{"correct", "total"}`` per knowledge file, for cases that name one.
        per_expect: ``{"correct", "total"}`` per expectation.
        kinds: count of outcomes per kind, every kind listed.
        latency_p50: median latency in seconds.
        latency_p95: 95th-percentile latency in seconds.
        failures: cases scored incorrect or whose reply the guard found unfaithful.
    """

    results: tuple[CaseResult, ...]
    n: int
    correctness: float | None
    faithfulness: float | None
    fallback_rate: float | None
    generated_share: float | None
    handoff_rate: float | None
    per_source: dict[str, Any]
    per_expect: dict[str, Any]
    kinds: dict[str, int]
    latency_p50: float | None
    latency_p95: float | None
    failures: tuple[CaseResult, ...]

    @classmethod
    def from_results(cls, results: Sequence[CaseResult]) -> AnswerReport:
        """Computes every metric from scored cases."""
        answer = [r for r in results if r.case.expect == "answer"]
        judged = [r.faithful for r in results if r.faithful is not None]
        kinds = Counter(r.outcome.kind for r in results)
        latencies = [r.latency_s for r in results]
        return cls(
            results=tuple(results),
            n=len(results),
            correctness=_share(sum(r.correct for r in results), len(results)),
            faithfulness=_share(sum(judged), len(judged)),
            fallback_rate=_share(
                sum(r.outcome.kind in {"passage", "fallback", "action"} for r in answer),
                len(answer),
            ),
            generated_share=_share(sum(r.outcome.kind == "generated" for r in answer), len(answer)),
            handoff_rate=_share(
                sum(r.outcome.kind == "handoff" or r.outcome.offered_handoff for r in results),
                len(results),
            ),
            per_source=_tally([r for r in results if r.case.source], lambda r: r.case.source or ""),
            per_expect=_tally(results, lambda r: r.case.expect),
            kinds={kind: kinds[kind] for kind in get_args(OutcomeKind)},
            latency_p50=percentile(latencies, 0.5),
            latency_p95=percentile(latencies, 0.95),
            failures=tuple(r for r in results if not r.correct or r.faithful is False),
        )

    def metrics(self) -> dict[str, float | None]:
        """The headline numbers by name."""
        names = ("correctness", "faithfulness", "fallback_rate", "generated_share", "handoff_rate")
        return {name: getattr(self, name) for name in names} | {
            "latency_p50_s": self.latency_p50,
            "latency_p95_s": self.latency_p95,
        }

    def table(self) -> str:
        """A plain-text summary: metrics, kinds, per-file and per-expectation scores, failures."""
        lines = [f"Answer evaluation: {self.n} cases", ""]
        for name, value in self.metrics().items():
            shown = (
                "n/a" if value is None else f"{value:.3f}" if "latency" in name else f"{value:.1%}"
            )
            lines.append(f"  {name:<18}{shown:>8}")
        lines += ["", "  kinds: " + ", ".join(f"{k} {v}" for k, v in self.kinds.items()), ""]
        for title, tally in (("source", self.per_source), ("expect", self.per_expect)):
            lines.append(f"  {title:<20}{'correct':>9}{'cases':>7}{'share':>8}")
            for key, t in tally.items():
                share = t["correct"] / t["total"]
                lines.append(f"  {key:<20}{t['correct']:>9}{t['total']:>7}{share:>8.1%}")
            lines.append("")
        lines.append(f"Failures: {len(self.failures)}")
        for r in self.failures:
            lines += [
                f"- {r.case.id} [expect {r.case.expect}, got {r.outcome.kind}]",
                f"    Q: {r.case.question}",
                f"    A: {_clip(r.outcome.text)}",
            ]
            if r.missing:
                lines.append("    missing: " + "; ".join(" | ".join(g) for g in r.missing))
            if r.forbidden:
                lines.append("    forbidden: " + "; ".join(r.forbidden))
            if r.case.expect != "answer" and not r.correct and not r.forbidden:
                lines.append("    answered instead of declining or offering a person")
            if r.unsupported:
                lines.append("    unsupported: " + "; ".join(r.unsupported))
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data: the metrics, counts, every case's result and the failures again."""
        return {
            "n": self.n,
            **self.metrics(),
            "kinds": self.kinds,
            "per_source": self.per_source,
            "per_expect": self.per_expect,
            "cases": [r.to_json() for r in self.results],
            "failures": [r.to_json() for r in self.failures],
        }


def _clip(text: str, limit: int = 240) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


async def evaluate(
    cases: Sequence[AnswerCase],
    answer: AnswerFn,
    *,
    progress: bool = True,
    guard: Guard = check_answer,
) -> AnswerReport:
    """Asks every question in turn, one at a time so latencies are an idle bot's, and scores.

    Args:
        cases: from :func:`load_cases`.
        answer: the answering layer under test.
        progress: show a tqdm progress bar on stderr.
        guard: the claim checker used for faithfulness.

    Returns:
        The scored run.

    Raises:
        Exception: whatever ``answer`` raises, with a note naming the case.
    """
    results: list[CaseResult] = []
    with tqdm(total=len(cases), desc="eval-answers", unit="q", disable=not progress) as bar:
        for case in cases:
            started = time.perf_counter()
            try:
                outcome = await answer(case)
            except Exception as exc:
                exc.add_note(f"while answering evaluation case {case.id!r}")
                raise
            elapsed = time.perf_counter() - started
            results.append(score(case, outcome, guard=guard, latency_s=elapsed))
            bar.set_postfix(correct=f"{sum(r.correct for r in results)}/{len(results)}")
            bar.update()
    return AnswerReport.from_results(results)
