"""Static checks of docker-compose.yml and the Dockerfile (Docker itself does not run in CI).

Each check ties the deployment files to the code they start: build inputs exist, commands name
modules that exist, health checks and ports agree, and the environment variables are ones the
bot's configuration actually reads.
"""

from __future__ import annotations

import importlib.util
import shlex
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot.config import ServerConfig

ROOT = Path(__file__).resolve().parents[1]


def load_compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def service(name: str) -> dict[str, Any]:
    found: dict[str, Any] = load_compose()["services"][name]
    return found


def command(name: str) -> list[str]:
    raw = service(name)["command"]
    return shlex.split(raw) if isinstance(raw, str) else [str(part) for part in raw]


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, args = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        pending = ""
    return instructions


def option(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def healthcheck_code(name: str) -> str:
    test = service(name)["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], test
    code: str = test[3]
    compile(code, f"{name}-healthcheck", "exec")
    return code


def published_container_ports(name: str) -> set[int]:
    # "host:container" or "ip:host:container": the container port is always last.
    return {int(str(mapping).rsplit(":", 1)[-1]) for mapping in service(name).get("ports", [])}


def test_the_three_services_exist() -> None:
    # Services behind a profile (prometheus) start only when asked for.
    services = load_compose()["services"]
    default = {name for name, spec in services.items() if not spec.get("profiles")}
    assert default == {"redis", "actions", "bot"}


@pytest.mark.parametrize("name", ["actions", "bot"])
def test_build_context_and_dockerfile_exist(name: str) -> None:
    build = service(name)["build"]
    context = ROOT / build["context"]
    assert context.is_dir()
    assert (context / build.get("dockerfile", "Dockerfile")).is_file()


def test_dockerfile_base_and_copied_paths_exist() -> None:
    instructions = dockerfile_instructions(ROOT / "Dockerfile")
    assert instructions[0] == ("FROM", "python:3.11-slim")
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    copied: list[str] = []
    for keyword, args in instructions:
        if keyword == "COPY":
            copied.extend(args.split()[:-1])
    assert {"bot/", "actions/", "data/", "models/", "config.yml", "requirements/"} <= set(copied)
    for source in copied:
        assert (ROOT / source).exists(), f"Dockerfile copies {source}, missing from the repository"
        assert source.rstrip("/") not in ignored, f".dockerignore drops {source}"
    # The image installs the locked versions and hashes, then the project without resolving.
    runs = [args for keyword, args in instructions if keyword == "RUN"]
    assert any("--require-hashes" in r and "requirements/main.lock" in r for r in runs)
    assert ("RUN", "pip install --no-deps --no-build-isolation .") in instructions
    assert ("WORKDIR", "/app") in instructions


def test_redis_service() -> None:
    redis = service("redis")
    assert redis["image"] == "redis:7-alpine"
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_actions_service_runs_our_actions_package_on_5055() -> None:
    argv = command("actions")
    assert argv[:3] == ["python", "-m", "rasa_sdk"]
    assert importlib.util.find_spec("rasa_sdk") is not None
    package = option(argv, "--actions")
    assert (ROOT / package / "__init__.py").is_file()
    port = int(option(argv, "--port"))
    assert port == 5055
    assert port in published_container_ports("actions")
    assert f"127.0.0.1:{port}/health" in healthcheck_code("actions")
    shop_dir = service("actions")["environment"]["CONCIERGE_SHOP_DIR"]
    # The image's WORKDIR is /app, where the repository's data/ is copied.
    assert shop_dir.startswith("/app/")
    assert (ROOT / shop_dir.removeprefix("/app/")).is_dir()


def test_bot_service_runs_the_cli_without_embedded_actions() -> None:
    argv = command("bot")
    assert argv == ["python", "-m", "bot", "run", "--no-actions"]
    assert (ROOT / "bot" / "__main__.py").is_file()
    cli = ROOT / "bot" / "cli.py"
    assert "--no-actions" in cli.read_text(), "bot/cli.py has no --no-actions flag"
    assert 5005 in published_container_ports("bot")
    assert "127.0.0.1:5005/health" in healthcheck_code("bot")


def test_bot_environment_points_at_the_other_services() -> None:
    env = service("bot")["environment"]
    config_source = (ROOT / "bot" / "config.py").read_text()

    redis_url = urlsplit(env["REDIS_URL"])
    assert (redis_url.scheme, redis_url.hostname, redis_url.port) == ("redis", "redis", 6379)

    actions_url = urlsplit(env["CONCIERGE_ACTION_SERVER_URL"])
    assert actions_url.hostname == "actions"
    assert actions_url.port == int(option(command("actions"), "--port"))

    for name in env:
        if name.startswith("CONCIERGE__"):
            section, key = name.removeprefix("CONCIERGE__").lower().split("__")
            assert section == "server"
            assert key in {f.name for f in fields(ServerConfig)}
        else:
            assert f'"{name}"' in config_source, f"bot/config.py does not read {name}"
    assert env["CONCIERGE__SERVER__HOST"] == "0.0.0.0"


def test_bot_waits_for_healthy_dependencies() -> None:
    depends_on = service("bot")["depends_on"]
    assert depends_on == {
        "redis": {"condition": "service_healthy"},
        "actions": {"condition": "service_healthy"},
    }
    for name in depends_on:
        assert "healthcheck" in service(name)
