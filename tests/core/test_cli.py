"""The command line as a shopper's engineer runs it: real processes, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bot.config import ROOT


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_config_prints_effective_settings_with_overrides() -> None:
    done = run_cli("config", CONCIERGE__NLU__THRESHOLD="0.42", REDIS_URL="redis://h:6379/2")
    assert done.returncode == 0, done.stderr
    assert "threshold: 0.42" in done.stdout
    assert "url: redis://h:6379/2" in done.stdout


def test_invalid_config_stops_with_the_key_named() -> None:
    done = run_cli("run", CONCIERGE__SESSIONS__URL="mongodb://nowhere")
    assert done.returncode == 1
    assert "sessions.url" in done.stderr
    assert "Traceback" not in done.stderr


def test_no_command_prints_help() -> None:
    done = run_cli()
    assert done.returncode == 2
    assert "run" in done.stdout
    assert "chat" in done.stdout


def test_search_shows_each_sections_signals_and_the_bar() -> None:
    done = run_cli("search", "-k", "2", "--json", "which payment methods do you accept?")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["route"] == "answer"
    assert len(report["hits"]) == 2
    best = report["hits"][0]
    assert best["id"] == "payments.md#accepted-payment-methods"
    assert report["answered"] is (best["similarity"] >= report["bar"])
    assert set(best["views"]) == {"text", "heading", "sentence", "question"}
    assert best["nearest_question"]

    table = run_cli("search", "-k", "1", "which payment methods do you accept?")
    assert table.returncode == 0, table.stderr
    assert "payments.md#accepted-payment-methods" in table.stdout
    assert "nearest example:" in table.stdout


def test_search_refuses_a_bad_count() -> None:
    done = run_cli("search", "-k", "0", "hello")
    assert done.returncode == 1
    assert "-k must be at least 1" in done.stderr
    assert "Traceback" not in done.stderr


def test_search_after_earlier_messages_searches_with_their_topic() -> None:
    done = run_cli(
        "search",
        "-k",
        "1",
        "--json",
        "--after",
        "how do I send a return back?",
        "is the label free?",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["context"] == "how do I send a return back?"
    assert report["follow_up"] is True  # "the label" is the one of the return just explained
    assert report["answered"] is True
    assert report["hits"][0]["id"] == "returns.md#return-shipping-costs"

    table = run_cli(
        "search",
        "-k",
        "1",
        "--after",
        "how long does shipping take?",
        "who won the game last night?",
    )
    assert table.returncode == 0, table.stderr
    assert "searched beside the topic: how long does shipping take?" in table.stdout
    assert "not used" in table.stdout
