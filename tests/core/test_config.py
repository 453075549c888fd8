from pathlib import Path

import pytest

from bot.config import ROOT, describe, load_settings
from bot.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_repository_config_loads_with_embedded_defaults() -> None:
    settings = load_settings(ROOT / "config.yml", env={})
    assert settings.sessions.url == "memory://"
    assert settings.server.port == 5005
    assert settings.action_server.url.endswith(":5055")
    assert settings.path(settings.policy.domain).exists()
    assert "Northwind" in describe(settings)


def test_shop_store_points_the_action_server_at_another_shop(tmp_path: Path) -> None:
    path = write(tmp_path, "shop_store:\n  data_dir: /data/other-shop\n")
    settings = load_settings(path, env={"CONCIERGE__SHOP_STORE__DATABASE": "var/other.sqlite"})
    assert settings.shop_store.environment(settings) == {
        "CONCIERGE_SHOP_DIR": "/data/other-shop",
        "CONCIERGE_SHOP_DB": str(ROOT / "var" / "other.sqlite"),
    }


def test_environment_overrides_file_and_shortcuts(tmp_path: Path) -> None:
    path = write(tmp_path, "nlu:\n  threshold: 0.3\n")
    settings = load_settings(
        path,
        env={
            "REDIS_URL": "redis://127.0.0.1:6379/3",
            "CONCIERGE__NLU__THRESHOLD": "0.65",
            "CONCIERGE__HANDOFF__INTENTS": "[contact_human_agent, complaint]",
            "PORT": "6006",
        },
    )
    assert settings.sessions.url == "redis://127.0.0.1:6379/3"
    assert settings.nlu.threshold == pytest.approx(0.65)
    assert settings.handoff.intents == ("contact_human_agent", "complaint")
    assert settings.server.port == 6006


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("nlu:\n  treshold: 0.5\n", "nlu.treshold"),
        ("nlu:\n  threshold: high\n", "nlu.threshold"),
        ("nlu:\n  threshold: 1.5\n", "nlu.threshold"),
        ("policy:\n  answer_min_score: -2\n", "policy.answer_min_score"),
        ("policy:\n  unsure_answer_min_score: 1.5\n", "policy.unsure_answer_min_score"),
        ("knowledge:\n  question_weight: -1\n", "knowledge.question_weight"),
        ("knowledge:\n  question_match: 0\n", "knowledge.question_match"),
        ("knowledge:\n  follow_up_weight: -0.5\n", "knowledge.follow_up_weight"),
        ("knowledge:\n  standalone_floor: 2\n", "knowledge.standalone_floor"),
        ("sessions:\n  url: mongodb://x\n", "sessions.url"),
        ("server:\n  port: 70000\n", "server.port"),
        ("action_server:\n  url: localhost:5055\n", "action_server.url"),
        ("action_server:\n  embedded: maybe\n", "action_server.embedded"),
        ("server:\n  port: 5.5\n", "server.port"),
        ("shop: [1, 2]\n", "shop"),
        ("widgets: {}\n", "widgets"),
    ],
)
def test_invalid_config_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), env={})
    assert caught.value.key == key
    assert key in str(caught.value)


def test_invalid_environment_value_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"server\.port"):
        load_settings(write(tmp_path, ""), env={"CONCIERGE__SERVER__PORT": "many"})


def test_not_yaml_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(write(tmp_path, "nlu: [unclosed\n"), env={})


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(None, env={"CONCIERGE_CONFIG": str(tmp_path / "nope.yml")})
