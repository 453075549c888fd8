"""The command line as a shopper's engineer runs it: real processes, real exit codes."""

from __future__ import annotations

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
