"""The markdown splitter, the shipped knowledge files, and errors for bad directories."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.errors import ConfigError
from bot.knowledge import load_passages, split_markdown
from bot.knowledge.passages import slugify

KNOWLEDGE = Path(__file__).resolve().parents[2] / "data" / "knowledge"
DOMAIN = Path(__file__).resolve().parents[2] / "data" / "domain.yml"

# The Bitext intents that ask a question rather than look something up: each must be answered.
QUESTION_INTENTS = {
    "check_refund_policy", "delivery_period", "delivery_options", "check_cancellation_fee",
    "check_payment_methods", "payment_issue", "check_invoice", "get_invoice", "create_account",
    "delete_account", "edit_account", "switch_account", "recover_password",
    "registration_problems", "newsletter_subscription", "place_order", "review", "complaint",
    "contact_customer_service", "set_up_shipping_address", "change_shipping_address",
    "cancel_order", "change_order", "get_refund", "track_refund", "return_item", "exchange_item",
}  # fmt: skip

SAMPLE = """\
# Returns & **exchanges**

This introduction is not a passage.

## Return window
<!-- intents: return_item, check_refund_policy -->
You have **30 days** to return _unworn_ items.
See [the returns page](https://shop.example/returns) or use `Order History`.

## What you can't return
* gift cards
+ final-sale items
- swimwear

1. first step
2. second step

Ask us if unsure.

## Empty section
<!-- intents: nothing -->
"""


def test_sections_become_passages_with_title_as_context() -> None:
    passages = split_markdown(SAMPLE, "returns.md")

    assert [p.id for p in passages] == [
        "returns.md#return-window",
        "returns.md#what-you-cant-return",
    ]
    first = passages[0]
    assert first.source == "returns.md"
    assert first.title == "Returns & exchanges"
    assert first.heading == "Return window"
    assert first.intents == ("return_item", "check_refund_policy")
    assert first.embedding_text.startswith("Returns & exchanges. Return window. You have")


def test_example_questions_are_read_from_their_comment_and_never_shown() -> None:
    markdown = (
        "# Returns\n\n## Return window\n<!-- intents: return_item -->\n"
        "<!-- questions:\n- how long do I have to send it back?\n"
        "* can I return a **worn** jacket?\n\n  what about boots -->\n"
        "You have 30 days.\n\n## Fees\nA label costs $6.50.\n"
    )
    window, fees = split_markdown(markdown, "returns.md")

    assert window.questions == (
        "how long do I have to send it back?",
        "can I return a worn jacket?",
        "what about boots",
    )
    assert window.intents == ("return_item",)
    assert window.text == "You have 30 days."
    assert fees.questions == ()


def test_display_text_drops_markup_but_keeps_lists() -> None:
    first, second = split_markdown(SAMPLE, "returns.md")

    assert first.text == (
        "You have 30 days to return unworn items. See the returns page or use Order History."
    )
    assert "<!--" not in first.text
    assert second.text == (
        "- gift cards\n- final-sale items\n- swimwear\n1. first step\n2. second step\n\n"
        "Ask us if unsure."
    )
    assert second.intents == ()


def test_duplicate_heading_in_one_file_is_rejected() -> None:
    with pytest.raises(ValueError, match="Same"):
        split_markdown("# T\n## Same\nOne.\n## Same\nTwo.\n", "x.md")


def test_windows_line_endings_and_missing_title() -> None:
    (passage,) = split_markdown("## Gift cards\r\nThey never expire.\r\n", "gift-cards.md")

    assert passage.title == "Gift cards"
    assert passage.text == "They never expire."


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Return window", "return-window"),
        ("Damaged, defective or wrong items", "damaged-defective-or-wrong-items"),
        ("What **you** can't return?", "what-you-cant-return"),
    ],
)
def test_slugify(heading: str, slug: str) -> None:
    assert slugify(heading) == slug


def test_shipped_knowledge_base_is_well_formed() -> None:
    passages = load_passages(KNOWLEDGE)

    assert 40 <= len(passages) <= 60
    assert len({p.id for p in passages}) == len(passages)
    for passage in passages:
        words = len(passage.text.split())
        assert 40 <= words <= 150, f"{passage.id} has {words} words"
        assert passage.intents, f"{passage.id} declares no intent"
        assert not re.search(r"\*\*|__|<!--|^#", passage.text, re.MULTILINE), passage.id


def test_shipped_sections_list_example_questions_each_under_one_section() -> None:
    passages = load_passages(KNOWLEDGE)
    owners: dict[str, str] = {}
    for passage in passages:
        assert len(passage.questions) >= 5, f"{passage.id} lists {len(passage.questions)}"
        for question in passage.questions:
            assert "{{" not in question, (passage.id, question)
            assert "<" not in question, (passage.id, question)
            key = " ".join(question.lower().split()).rstrip("?.!")
            assert key not in owners, f"{question!r} is under {owners.get(key)} and {passage.id}"
            owners[key] = passage.id


def test_shipped_knowledge_base_answers_every_question_intent() -> None:
    declared = {intent for p in load_passages(KNOWLEDGE) for intent in p.intents}
    domain_intents = set(yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))["intents"])

    assert not QUESTION_INTENTS - declared, "question intents no passage answers"
    assert declared <= domain_intents, "passages declare intents the domain does not know"


def test_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape(str(tmp_path / "nope"))):
        load_passages(tmp_path / "nope")


def test_a_single_markdown_file_is_a_knowledge_base_of_its_own(tmp_path: Path) -> None:
    file = tmp_path / "wiki.md"
    file.write_text("# Policy\n## Returns\nWithin 30 days.\n", encoding="utf-8")
    (tmp_path / "other.md").write_text("## Other\nNot part of it.\n", encoding="utf-8")

    passages = load_passages(file)

    assert [(p.id, p.text) for p in passages] == [("wiki.md#returns", "Within 30 days.")]


def test_a_file_that_is_not_markdown_is_a_config_error(tmp_path: Path) -> None:
    file = tmp_path / "shipping.txt"
    file.write_text("## A\nB.\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="neither a directory nor a markdown file"):
        load_passages(file)


def test_empty_directory_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("## Not markdown\nIgnored.\n", encoding="utf-8")
    (tmp_path / "intro.md").write_text("# Only a title\nNo sections here.\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="no markdown passages") as info:
        load_passages(tmp_path)
    assert info.value.key == "knowledge.directory"
    assert str(tmp_path) in str(info.value)


def test_undecodable_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("## A\nFine.\n", encoding="utf-8")
    (tmp_path / "bad.md").write_bytes(b"## A\n\xff\xfe broken\n")

    with pytest.raises(ConfigError, match=re.escape(str(tmp_path / "bad.md"))):
        load_passages(tmp_path)


def test_broken_link_is_a_config_error_not_a_silent_gap(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("## A\nFine.\n", encoding="utf-8")
    (tmp_path / "gone.md").symlink_to(tmp_path / "missing-target.md")

    with pytest.raises(ConfigError, match=r"gone\.md"):
        load_passages(tmp_path)


def test_nested_files_keep_their_relative_path(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "returns.md").write_text("## Window\n30 days.\n", encoding="utf-8")

    (passage,) = load_passages(tmp_path)
    assert passage.id == "policies/returns.md#window"
    assert passage.source == "policies/returns.md"
