"""The shipped answer-evaluation case files: what they cover, and that they are fair tests.

The answer sets (``data/eval/answers*.yml``: two development sets, held-out and a second
held-out set written after the answer rules were tuned) and the follow-up sets
(``data/eval/followups*.yml``) must cover the knowledge base, keep development and held-out
questions apart, not copy the training data, and only require facts the knowledge states.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.config import Settings
from bot.knowledge import fill_placeholders, split_markdown
from bot.nlu.training_data import load_nlu_yaml
from training.answer_evaluation import AnswerCase, contains, load_cases, normalize

ROOT = Path(__file__).resolve().parents[2]
CASES_FILE = ROOT / "data" / "eval" / "answers.yml"
DEV_FILE = ROOT / "data" / "eval" / "answers-dev.yml"
SECOND_FILE = ROOT / "data" / "eval" / "answers-2.yml"
DEV_2_FILE = ROOT / "data" / "eval" / "answers-dev-2.yml"
FOLLOW_UPS_FILE = ROOT / "data" / "eval" / "followups.yml"
FOLLOW_UPS_DEV_FILE = ROOT / "data" / "eval" / "followups-dev.yml"
KNOWLEDGE = ROOT / "data" / "knowledge"
NLU_FILE = ROOT / "data" / "nlu.yml"

SHIPPED = load_cases(CASES_FILE)
DEV = load_cases(DEV_FILE)
SECOND = load_cases(SECOND_FILE)
DEV_2 = load_cases(DEV_2_FILE)
FOLLOW_UPS = load_cases(FOLLOW_UPS_FILE)
FOLLOW_UPS_DEV = load_cases(FOLLOW_UPS_DEV_FILE)
ANSWER_CASES = [
    case
    for case in SHIPPED + DEV + DEV_2 + SECOND + FOLLOW_UPS + FOLLOW_UPS_DEV
    if case.expect == "answer"
]


@pytest.mark.parametrize(
    ("cases", "minimum", "per_file"),
    [(SHIPPED, 80, 5), (DEV, 40, 4), (DEV_2, 80, 6), (SECOND, 80, 7)],
    ids=["test", "dev", "dev-2", "second"],
)
def test_case_sets_cover_every_knowledge_file_and_the_refusals(
    cases: list[AnswerCase], minimum: int, per_file: int
) -> None:
    expects = Counter(case.expect for case in cases)
    sources = Counter(case.source for case in cases if case.expect == "answer")

    assert len(cases) >= minimum
    assert expects["handoff"] + expects["deflect"] >= 10
    assert expects["handoff"] >= 3
    assert expects["deflect"] >= 3
    assert set(sources) == {path.name for path in KNOWLEDGE.glob("*.md")}
    assert min(sources.values()) >= per_file
    assert all(case.source is None for case in cases if case.expect != "answer")
    assert len({normalize(case.question) for case in cases}) == len(cases)


@pytest.mark.parametrize(
    ("dev", "test"),
    [
        (DEV, SHIPPED),
        (DEV, SECOND),
        (DEV_2, SHIPPED),
        (DEV_2, SECOND),
        (DEV, DEV_2),
        (SHIPPED, SECOND),
        (FOLLOW_UPS_DEV, FOLLOW_UPS),
    ],
    ids=[
        "answers",
        "dev-second",
        "dev-2",
        "dev-2-second",
        "dev-dev-2",
        "test-second",
        "follow-ups",
    ],
)
def test_dev_and_test_sets_share_no_question_or_id(
    dev: list[AnswerCase], test: list[AnswerCase]
) -> None:
    test_questions = {normalize(case.question) for case in test}

    assert [c.id for c in dev if normalize(c.question) in test_questions] == []
    assert {c.id for c in dev}.isdisjoint(c.id for c in test)


@pytest.mark.parametrize(
    ("cases", "minimum"), [(FOLLOW_UPS, 80), (FOLLOW_UPS_DEV, 39)], ids=["test", "dev"]
)
def test_follow_up_sets_ask_after_earlier_messages(cases: list[AnswerCase], minimum: int) -> None:
    expects = Counter(case.expect for case in cases)
    sources = {case.source for case in cases if case.expect == "answer"}

    assert len(cases) >= minimum
    assert all(1 <= len(case.before) <= 2 for case in cases)
    assert expects["handoff"] >= 6
    assert len(sources) >= 8
    assert len({normalize(case.question) for case in cases}) == len(cases)


def test_no_question_is_copied_from_the_training_data() -> None:
    # The examples' plain text, with entity markup ("[#4821937](order_id)") read as written.
    examples = [example.text for example in load_nlu_yaml(NLU_FILE).examples]
    assert len(examples) > 100  # the parser found the examples
    nlu_text = "\n".join(normalize(example) for example in examples)
    knowledge_text = normalize(" ".join(p.read_text("utf-8") for p in KNOWLEDGE.glob("*.md")))

    copied = [
        case.id
        for case in SHIPPED + DEV + DEV_2 + SECOND + FOLLOW_UPS + FOLLOW_UPS_DEV
        for message in (case.question, *case.before)
        if normalize(message) in nlu_text or normalize(message) in knowledge_text
    ]

    assert copied == []


@pytest.fixture(scope="module")
def knowledge_text() -> dict[str, str]:
    values = Settings().shop.placeholders()
    texts: dict[str, str] = {}
    for path in KNOWLEDGE.glob("*.md"):
        passages = split_markdown(fill_placeholders(path.read_text("utf-8"), values), path.name)
        texts[path.name] = "\n".join(f"{p.heading}. {p.text}" for p in passages)
    return texts


@pytest.mark.parametrize("case", ANSWER_CASES, ids=[case.id for case in ANSWER_CASES])
def test_every_required_fact_is_in_its_knowledge_file(
    case: AnswerCase, knowledge_text: dict[str, str]
) -> None:
    assert case.source in knowledge_text, f"{case.id}: no knowledge file {case.source}"
    text = knowledge_text[case.source]

    unsupported = [g for g in case.must_include if not any(contains(text, n) for n in g)]

    assert unsupported == [], f"{case.id}: not in {case.source}: {unsupported}"
