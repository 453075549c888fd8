"""docker-compose.yml's optional `prometheus` profile scrapes the bot's /metrics.

Docker does not run in CI; these check that the files agree with each other and the code.
"""

from __future__ import annotations

from typing import Any

import yaml

from bot.config import ROOT
from bot.observability import routes


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_prometheus_starts_only_with_its_profile_and_reads_the_shipped_config() -> None:
    services = compose()["services"]
    prometheus = services["prometheus"]
    assert prometheus["profiles"] == ["prometheus"]
    assert "bot" in prometheus["depends_on"]
    mounts = {volume.split(":")[0]: volume.split(":")[1] for volume in prometheus["volumes"]}
    assert mounts["./deploy/prometheus.yml"] == "/etc/prometheus/prometheus.yml"
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    assert (ROOT / "deploy/prometheus.yml").is_file()
    # Published on the host's loopback only, like the action server.
    assert all(str(port).startswith("127.0.0.1:") for port in prometheus["ports"])
    name, _, tag = prometheus["image"].partition(":")
    assert name == "prom/prometheus"
    assert tag not in ("", "latest"), "a pinned version, so a pull cannot change it"


def test_the_scrape_target_is_the_bot_service_and_its_metrics_route() -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    served = {route.path for route in routes.routes()}
    assert job["metrics_path"] in served
    bot_ports = {int(str(p).rsplit(":", 1)[-1]) for p in compose()["services"]["bot"]["ports"]}
    (target,) = job["static_configs"][0]["targets"]
    host, port = target.split(":")
    assert host == "bot"
    assert int(port) in bot_ports
