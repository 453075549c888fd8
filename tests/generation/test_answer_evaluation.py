"""The held-out answer evaluation: case loading, matching and metrics (the shipped case files:
test_eval_case_sets.py)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.generation.guard import GuardVerdict, check_answer
from training.answer_evaluation import (
    AnswerCase,
    AnswerOutcome,
    AnswerReport,
    contains,
    evaluate,
    load_cases,
    normalize,
)

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------- loading


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cases.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_case_loads_with_every_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
- id: window
  question: "  how long to return?  "
  expect: answer
  must_include:
    - ["30 days", "thirty days"]
    - "refund"
  must_not_include: ["60 days"]
  source: returns.md
- id: weather
  question: weather in Paris?
  expect: deflect
- id: klarna
  before: ["can I pay with paypal?", "  and apple pay? "]
  question: what about klarna?
  expect: handoff
""",
    )

    assert load_cases(path) == [
        AnswerCase(
            id="window",
            question="how long to return?",
            expect="answer",
            must_include=(("30 days", "thirty days"), ("refund",)),
            must_not_include=("60 days",),
            source="returns.md",
        ),
        AnswerCase(id="weather", question="weather in Paris?", expect="deflect"),
        AnswerCase(
            id="klarna",
            question="what about klarna?",
            expect="handoff",
            before=("can I pay with paypal?", "and apple pay?"),
        ),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: a\n", r"expected a non-empty list of cases"),
        ("[]\n", r"expected a non-empty list of cases"),
        ("- [unclosed\n", r"not valid YAML"),
        ("- just a string\n", r"case 0: expected a mapping"),
        ("- {id: a, expect: answer, must_include: [x]}\n", r"case 0 \('a'\): field 'question'"),
        ("- {question: q, expect: answer, must_include: [x]}\n", r"case 0: field 'id'"),
        ("- {id: a, question: q, expect: maybe}\n", r"case 0 \('a'\): field 'expect'.*maybe"),
        ("- {id: a, question: q, expect: answer}\n", r"\('a'\): field 'must_include'.*one group"),
        (
            "- {id: a, question: q, expect: answer, must_include: x}\n",
            r"\('a'\): field 'must_include': must be a list of groups",
        ),
        (
            "- {id: a, question: q, expect: answer, must_include: [[]]}\n",
            r"\('a'\): field 'must_include': group 0: must be a non-empty list",
        ),
        (
            "- {id: a, question: q, expect: answer, must_include: [[ok], [1]]}\n",
            r"\('a'\): field 'must_include': group 1: 1 is not a non-empty string",
        ),
        (
            "- {id: a, question: q, expect: answer, must_include: ['...']}\n",
            r"\('a'\): field 'must_include': group 0: '...' is not a non-empty string",
        ),
        (
            "- {id: a, question: q, expect: handoff, must_include: [x]}\n",
            r"\('a'\): field 'must_include': only 'answer' cases",
        ),
        (
            "- {id: a, question: q, expect: deflect, must_not_include: nope}\n",
            r"\('a'\): field 'must_not_include'",
        ),
        (
            "- {id: a, question: q, expect: deflect, source: 3}\n",
            r"\('a'\): field 'source'",
        ),
        (
            "- {id: a, question: q, expect: deflect, before: earlier}\n",
            r"\('a'\): field 'before': must be a non-empty list",
        ),
        (
            "- {id: a, question: q, expect: deflect, before: [ok, 2]}\n",
            r"\('a'\): field 'before': 2 is not a non-empty string",
        ),
        (
            "- {id: a, question: q, expect: deflect, must_inclde: [x]}\n",
            r"\('a'\): field 'must_inclde': unknown field",
        ),
        (
            "- {id: a, question: q, expect: deflect}\n- {id: a, question: r, expect: deflect}\n",
            r"case 1 \('a'\): field 'id': duplicate id",
        ),
    ],
)
def test_bad_input_names_the_case_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)

    with pytest.raises(ValueError, match=message) as caught:
        load_cases(path)

    assert str(path) in str(caught.value)


# ---------------------------------------------------------------------------- matching


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("You have 30 DAYS to return it.", "30 days"),
        ("You have 30\n   days to return it.", "30 days"),
        ("Cards take 5–10 business days.", "5-10 business days"),
        ("Cards take 5-10 business days.", "5—10 business days"),
        ("We don’t price match.", "don't price match"),
        ("Tick “This is a gift” at checkout.", '"this is a gift"'),
        ("The label costs $6.50, deducted.", "$6.50."),
        ("Get 10% off your first order", "10%"),
        ("Call +1\u00a0555 0100 any time", "+1 555 0100"),
    ],
)
def test_matching_normalises_case_space_quotes_dashes_and_trailing_punctuation(
    text: str, needle: str
) -> None:
    assert contains(text, needle)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("You have 130 days.", "30 days"),
        ("Orders over $750 ship free.", "$75"),
        ("Cards take 5-10 business days.", "3-5 business days"),
        ("Returns are fine.", "return"),
        ("anything", "..."),
    ],
)
def test_alphanumeric_needle_edges_must_be_word_edges(text: str, needle: str) -> None:
    assert not contains(text, needle)


def test_normalize() -> None:
    assert normalize("  Don’t\tSTOP –\n now ") == "don't stop - now"


# ---------------------------------------------------------------------------- metrics

RETURN_WINDOW = "You can return most items within 30 days of delivery."
LABEL = "Our prepaid return label costs $6.50, which we deduct from your refund."
STANDARD = "Standard shipping costs $5.95 and is free on orders over $75."

METRIC_CASES = [
    AnswerCase("a1", "how long to return?", "answer", (("30 days",),), (), "returns.md"),
    AnswerCase("a2", "label cost?", "answer", (("$6.50",),), ("90 days",), "returns.md"),
    AnswerCase("a3", "shipping cost?", "answer", (("$5.95",), ("$75",)), (), "shipping.md"),
    AnswerCase("a4", "who carries?", "answer", (("UPS",),), (), "shipping.md"),
    AnswerCase("h1", "physical store?", "handoff"),
    AnswerCase("d1", "discount code now", "deflect", (), ("your code is",)),
    AnswerCase("d2", "weather?", "deflect"),
]
METRIC_OUTCOMES = {
    # correct, faithful
    "a1": AnswerOutcome("You have 30 days.", "generated", (RETURN_WINDOW,), latency_s=1.0),
    # wrong (forbidden "90 days"), unfaithful
    "a2": AnswerOutcome("It's $6.50 within 90 days.", "generated", (LABEL,), latency_s=2.0),
    # correct, faithful, but the passage rather than the model's answer
    "a3": AnswerOutcome(STANDARD, "passage", (STANDARD,), ("shipping.md#fees",), latency_s=3.0),
    # missed, offered a person
    "a4": AnswerOutcome("Sorry, I didn't get that.", "fallback", (), (), True, latency_s=4.0),
    # correct
    "h1": AnswerOutcome("I don't know; shall I get a person?", "handoff", (), latency_s=5.0),
    # correct
    "d1": AnswerOutcome("I can't help with that.", "deflected", (), latency_s=6.0),
    # wrong: answered instead of deflecting (faithful though)
    "d2": AnswerOutcome(RETURN_WINDOW, "passage", (RETURN_WINDOW,), latency_s=7.0),
}


async def scripted_answer(case: AnswerCase) -> AnswerOutcome:
    return METRIC_OUTCOMES[case.id]


@pytest.fixture
async def report() -> AnswerReport:
    return await evaluate(METRIC_CASES, scripted_answer, progress=False)


def test_correctness_over_all_cases_and_per_expectation(report: AnswerReport) -> None:
    assert report.n == 7
    assert report.correctness == pytest.approx(4 / 7)
    assert report.per_expect == {
        "answer": {"correct": 2, "total": 4},
        "deflect": {"correct": 1, "total": 2},
        "handoff": {"correct": 1, "total": 1},
    }
    assert report.per_source == {
        "returns.md": {"correct": 1, "total": 2},
        "shipping.md": {"correct": 1, "total": 2},
    }


def test_faithfulness_covers_generated_and_passage_replies_only(report: AnswerReport) -> None:
    assert report.faithfulness == pytest.approx(3 / 4)
    faithful = {r.case.id: r.faithful for r in report.results}
    assert faithful == {
        "a1": True,
        "a2": False,
        "a3": True,
        "a4": None,
        "h1": None,
        "d1": None,
        "d2": True,
    }
    a2 = next(r for r in report.results if r.case.id == "a2")
    assert a2.unsupported
    assert any("90" in claim for claim in a2.unsupported)


def test_rates_kinds_and_latency(report: AnswerReport) -> None:
    assert report.fallback_rate == pytest.approx(2 / 4)  # a3 passage, a4 fallback
    assert report.generated_share == pytest.approx(2 / 4)  # a1, a2
    assert report.handoff_rate == pytest.approx(2 / 7)  # h1 handoff, a4 offered a person
    assert report.kinds == {
        "generated": 2,
        "passage": 2,
        "fallback": 1,
        "deflected": 1,
        "handoff": 1,
        "action": 0,
    }
    assert report.latency_p50 == pytest.approx(4.0)
    assert report.latency_p95 == pytest.approx(6.7)


def test_failures_say_what_went_wrong(report: AnswerReport) -> None:
    failures = {r.case.id: r for r in report.failures}

    assert sorted(failures) == ["a2", "a4", "d2"]
    assert failures["a2"].forbidden == ("90 days",)
    assert failures["a2"].missing == ()
    assert failures["a4"].missing == (("UPS",),)
    assert failures["d2"].missing == ()
    assert failures["d2"].outcome.text == RETURN_WINDOW


async def test_the_guard_is_asked_only_about_answering_replies() -> None:
    checked: list[str] = []

    def recording_guard(answer: str, evidence: Sequence[str]) -> GuardVerdict:
        checked.append(answer)
        return check_answer(answer, evidence)

    report = await evaluate(METRIC_CASES, scripted_answer, progress=False, guard=recording_guard)

    assert checked == [METRIC_OUTCOMES[i].text for i in ("a1", "a2", "a3", "d2")]
    assert report.faithfulness == pytest.approx(3 / 4)


def test_table_and_json(report: AnswerReport) -> None:
    table = report.table()
    data = report.to_json()

    assert "Answer evaluation: 7 cases" in table
    assert re.search(r"correctness\s+57\.1%", table)
    assert re.search(r"latency_p95_s\s+6\.700", table)
    assert re.search(r"returns\.md\s+1\s+2\s+50\.0%", table)
    assert "- a4 [expect answer, got fallback]" in table
    assert "missing: UPS" in table
    assert "forbidden: 90 days" in table
    assert "answered instead of declining" in table
    assert json.loads(json.dumps(data)) == data
    assert data["n"] == 7
    assert data["correctness"] == pytest.approx(4 / 7)
    assert data["kinds"]["passage"] == 2
    assert [row["id"] for row in data["failures"]] == ["a2", "a4", "d2"]
    assert data["failures"][1]["missing"] == [["UPS"]]
    assert [row["id"] for row in data["cases"]] == [case.id for case in METRIC_CASES]


async def test_empty_denominators_are_none_and_shown_as_na() -> None:
    async def decline(case: AnswerCase) -> AnswerOutcome:
        return AnswerOutcome("Sorry?", "fallback", ())

    report = await evaluate([AnswerCase("h", "q", "handoff")], decline, progress=False)

    assert report.correctness == 1.0
    assert report.faithfulness is None
    assert report.fallback_rate is None
    assert report.generated_share is None
    assert re.search(r"faithfulness\s+n/a", report.table())


async def test_latency_is_measured_when_the_outcome_reports_none() -> None:
    async def slow(case: AnswerCase) -> AnswerOutcome:
        await asyncio.sleep(0.01)
        return AnswerOutcome("I can't help with that.", "deflected", ())

    report = await evaluate([AnswerCase("d", "q", "deflect")], slow, progress=False)

    assert report.results[0].latency_s >= 0.01


async def test_a_failing_answer_names_the_case() -> None:
    async def broken(case: AnswerCase) -> AnswerOutcome:
        raise RuntimeError("model exploded")

    with pytest.raises(RuntimeError, match="model exploded") as caught:
        await evaluate(METRIC_CASES, broken, progress=False)

    assert "while answering evaluation case 'a1'" in caught.value.__notes__


async def test_progress_bar_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    await evaluate(METRIC_CASES, scripted_answer, progress=True)

    captured = capsys.readouterr()
    assert "eval-answers" in captured.err
    assert captured.out == ""
