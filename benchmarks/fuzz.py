"""Fuzzes every operation of the bot's HTTP API from its own OpenAPI description.

    python benchmarks/fuzz.py                     # the real bot, >= 10,000 requests (~2 min)
    python benchmarks/fuzz.py --examples 30       # a quick pass
    python benchmarks/fuzz.py --url http://127.0.0.1:5005 --token T   # a bot already running

Without ``--url`` the real bot is started as ``python -m bot run`` on a free loopback port
(real NLU and knowledge base, memory sessions, its embedded action server on a free port
against a throw-away copy of the demo shop, Telegram and WhatsApp enabled with made-up
credentials and their platform APIs pointed at a closed loopback port, so nothing leaves the
machine). The description is read from the bot's ``GET /openapi.json``.

Three phases per operation, each a Hypothesis run of ``--examples`` cases (schemathesis
generates them; an operation with nothing to vary is sent as often as Hypothesis finds a new
case):

* ``positive``: requests that fit the description;
* ``negative``: requests that break it (wrong types, missing fields, out-of-range values);
* ``hostile``: raw bodies for the operations that take JSON: arbitrary bytes, JSON with lone
  surrogates in any string, brackets nested up to 12,000 deep, NaN / Infinity / 1e999 /
  5,000-digit numbers, any Content-Type (WhatsApp bodies are signed, so they reach the parser).

Every response is checked by schemathesis (server error, status code, content type, headers
and body against the description). A request that takes longer than ``--timeout`` is a hang.
At the end the bot's own ``/metrics`` count of 5xx answers and its log's ``unexpected error``
lines are read as a second witness. Prints a table per operation and writes JSON (default
benchmarks/results/fuzz.json). The rate limits are off for the run (every request comes from
one address and many share the sender "default"); ``--rate-limits`` keeps them.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

ROOT = Path(__file__).resolve().parent.parent
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
API_TOKEN = "fuzz-api-token"
TELEGRAM_SECRET = "fuzz-telegram-secret"
WHATSAPP_SECRET = "fuzz-whatsapp-app-secret"
JSON_OPERATIONS = (
    "POST /model/parse",
    "POST /webhooks/rest/webhook",
    "POST /webhooks/stream/webhook",
    "PUT /conversations/{conversation_id}/mode",
    "POST /webhooks/telegram/webhook",
    "POST /webhooks/whatsapp/webhook",
)


@dataclass
class Tally:
    """What one operation's requests got."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    timeouts: int = 0
    broken: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)

    def record(self, status: int | None, seconds: float) -> None:
        self.requests += 1
        self.latencies_ms.append(seconds * 1000)
        if status is None:
            self.timeouts += 1
        else:
            self.statuses[status] += 1

    def broke(self, request: str, body: str, exc: Exception) -> None:
        """A request whose answer never arrived whole: counted as a server error."""
        self.requests += 1
        self.broken += 1
        self.failures["BrokenResponse"] += 1
        self.keep({"failure": "BrokenResponse", "request": request, "body": body[:300],
                   "error": f"{type(exc).__name__}: {exc}"[:300]})  # fmt: skip

    def keep(self, what: dict[str, Any]) -> None:
        if len(self.examples) < 5:
            self.examples.append(what)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        return {
            "requests": self.requests,
            "2xx": sum(n for s, n in self.statuses.items() if 200 <= s < 300),
            "3xx": sum(n for s, n in self.statuses.items() if 300 <= s < 400),
            "4xx": sum(n for s, n in self.statuses.items() if 400 <= s < 500),
            "5xx": sum(n for s, n in self.statuses.items() if s >= 500) + self.broken,
            "broken": self.broken,
            "timeouts": self.timeouts,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "check_failures": dict(self.failures),
            "p50_ms": round(ordered[len(ordered) // 2], 1) if ordered else None,
            "p95_ms": round(ordered[int(len(ordered) * 0.95)], 1) if ordered else None,
            "max_ms": round(ordered[-1], 1) if ordered else None,
            "skipped": self.skipped,
            "examples": self.examples,
        }


# --- hostile bodies --------------------------------------------------------------------------

_ANY_CHAR = st.characters(codec=None, exclude_categories=())  # lone surrogates included
_FIELD = st.sampled_from(["message", "text", "sender", "mode", "metadata", "message_id", "k"])


def _nested(depth: int, open_: str, close: str, inner: str = "1") -> bytes:
    return (open_ * depth + inner + close * depth).encode()


def hostile_bodies() -> st.SearchStrategy[bytes]:
    """Bodies no schema-driven generator sends: each once broke a JSON API somewhere."""
    text_with_surrogates = st.text(_ANY_CHAR, min_size=1, max_size=60)
    object_with_text = st.dictionaries(_FIELD, text_with_surrogates, min_size=1, max_size=4)
    return st.one_of(
        st.binary(max_size=2048),
        # json.dumps escapes lone surrogates as "\udXXX": valid JSON, invalid Unicode.
        object_with_text.map(lambda body: json.dumps(body).encode()),
        st.builds(
            lambda cp, where: (
                json.dumps({"sender": "fuzz", "message": "hi"})
                .replace('"hi"' if where else '"fuzz"', f'"a\\u{cp:04x}b"')
                .encode()
            ),
            st.integers(0xD800, 0xDFFF),
            st.booleans(),
        ),
        st.builds(_nested, st.integers(30, 12_000), st.just("[ "), st.just("]")),
        st.builds(_nested, st.integers(30, 12_000), st.just('{"a":'), st.just("}")),
        st.sampled_from(
            [
                b'{"sender": "n", "message": "hi", "metadata": {"x": NaN}}',
                b'{"sender": "n", "message": "hi", "metadata": {"x": -Infinity}}',
                b'{"sender": "n", "message": "hi", "metadata": {"x": 1e999}}',
                b'{"text": 1e999}',
                b'{"sender": ' + b"7" * 5000 + b', "message": "hi"}',
                b'{"sender": ' + b"7" * 4000 + b', "message": "hi"}',
                b'{"update_id": ' + b"9" * 4300 + b"}",
                b'{"mode": "bot", "mode": "human"}',
                b'{"sender": "a\\u0000b", "message": "\\u0000"}',
                b"\xef\xbb\xbf" + b'{"sender": "bom", "message": "hi"}',
                b'{"sender": "x", "message": "\xed\xa0\x80"}',  # a surrogate as raw UTF-8
                b'"just a string"',
                b"null",
            ]
        ),
    )


# --- running ---------------------------------------------------------------------------------


def _check(case: Any, response: Any, tally: Tally) -> None:
    try:
        case.validate_response(response, checks=CHECKS)
    except FailureGroup as group:
        for failure in group.exceptions:
            _count_failure(failure, case, response, tally)
    except Failure as failure:
        _count_failure(failure, case, response, tally)


def _count_failure(failure: Failure, case: Any, response: Any, tally: Tally) -> None:
    name = type(failure).__name__
    tally.failures[name] += 1
    tally.keep(
        {
            "failure": name,
            "title": failure.title,
            "message": str(failure.message)[:300],
            "request": f"{case.method} {case.formatted_path}",
            "body": repr(case.body)[:300] if case.body is not None else None,
            "status": response.status_code,
        }
    )


def _run_generated(
    operation: Any, mode: GenerationMode, tally: Tally, base_url: str, session: requests.Session,
    headers: dict[str, str], examples: int, timeout_s: float, seed_value: int,
) -> None:  # fmt: skip
    strategy = operation.as_strategy(generation_mode=mode)

    @hypothesis_seed(seed_value)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def one(case: Any) -> None:
        started = time.perf_counter()
        try:
            response = case.call(
                base_url=base_url, session=session, headers=headers, timeout=timeout_s
            )
        except requests.Timeout:
            tally.record(None, time.perf_counter() - started)
            tally.keep({"hang": f"{case.method} {case.formatted_path}", "body": repr(case.body)})
            return
        except requests.RequestException as exc:  # the answer broke off (a 500 mid-stream)
            tally.broke(f"{case.method} {case.formatted_path}", repr(case.body), exc)
            return
        tally.record(response.status_code, time.perf_counter() - started)
        _check(case, response, tally)

    one()


def _run_hostile(
    label: str, tally: Tally, base_url: str, session: requests.Session, token: str,
    examples: int, timeout_s: float, seed_value: int,
) -> None:  # fmt: skip
    method, path = label.split(" ", 1)
    path = path.replace("{conversation_id}", "fuzz-hostile")
    content_types = st.sampled_from(["application/json", "text/plain", "application/x-ndjson", ""])

    @hypothesis_seed(seed_value)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(hostile_bodies(), content_types)
    def one(body: bytes, content_type: str) -> None:
        headers = {
            "Authorization": f"Bearer {token}",
            "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
            "X-Hub-Signature-256": "sha256="
            + hmac.new(WHATSAPP_SECRET.encode(), body, hashlib.sha256).hexdigest(),
        }
        if content_type:
            headers["Content-Type"] = content_type
        started = time.perf_counter()
        try:
            response = session.request(
                method, base_url + path, data=body, headers=headers, timeout=timeout_s
            )
        except requests.Timeout:
            tally.record(None, time.perf_counter() - started)
            tally.keep({"hang": label, "body": body[:200].decode("latin-1")})
            return
        except requests.RequestException as exc:  # the answer broke off (a 500 mid-stream)
            tally.broke(label, body[:200].decode("latin-1"), exc)
            return
        tally.record(response.status_code, time.perf_counter() - started)
        if response.status_code >= 500:
            tally.failures["ServerError"] += 1
            shown = body[:200].decode("latin-1")
            tally.keep({"failure": "ServerError", "request": label, "body": shown,
                        "status": response.status_code})  # fmt: skip

    one()


def fuzz(
    base_url: str,
    *,
    spec: dict[str, Any] | None = None,
    token: str = API_TOKEN,
    examples: int = 200,
    hostile_examples: int | None = None,
    timeout_s: float = 30.0,
    seed_value: int = 0,
    only: Callable[[str], bool] = lambda label: True,
    progress: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Fuzzes every operation the bot at ``base_url`` describes; returns the report.

    Args:
        base_url: the bot, e.g. ``http://127.0.0.1:5005``.
        spec: the description to fuzz from (default: the bot's ``/openapi.json``).
        token: its ``server.api_token``, sent as a bearer token.
        examples: Hypothesis examples per operation and generation mode.
        hostile_examples: hostile raw bodies per JSON operation (default: ``examples``).
        timeout_s: a request slower than this is counted as a hang.
        seed_value: Hypothesis seed, so a run can be repeated.
        only: which operations (``"POST /model/parse"``) to fuzz.
        progress: receives a line per finished phase.
    """
    if spec is None:
        spec = requests.get(f"{base_url}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(spec)
    tallies: dict[str, Tally] = {}
    headers = {
        "Authorization": f"Bearer {token}",
        "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
    }
    started = time.perf_counter()
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            if not only(operation.label):
                continue
            tally = tallies.setdefault(operation.label, Tally())
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                before = tally.requests
                try:
                    _run_generated(operation, mode, tally, base_url, session, headers,
                                   examples, timeout_s, seed_value)  # fmt: skip
                except Exception as exc:  # a mode schemathesis cannot generate for this operation
                    tally.skipped.append(f"{mode.value}: {type(exc).__name__}: {exc}"[:200])
                progress(f"{operation.label:45} {mode.value:9} {tally.requests - before:6}")
            if operation.label in JSON_OPERATIONS:
                before = tally.requests
                _run_hostile(operation.label, tally, base_url, session, token,
                             hostile_examples or examples, timeout_s, seed_value)  # fmt: skip
                progress(f"{operation.label:45} {'hostile':9} {tally.requests - before:6}")
    elapsed = time.perf_counter() - started
    per_operation = {label: tally.summary() for label, tally in tallies.items()}
    totals = {
        key: sum(op[key] for op in per_operation.values())
        for key in ("requests", "2xx", "3xx", "4xx", "5xx", "timeouts")
    }
    failures: Counter[str] = Counter()
    for tally in tallies.values():
        failures.update(tally.failures)
    return {
        "totals": {**totals, "check_failures": dict(failures), "seconds": round(elapsed, 1)},
        "operations": per_operation,
    }


def server_side_errors(base_url: str) -> int:
    """5xx answers the bot counted itself (``concierge_http_responses_total``)."""
    response = requests.get(f"{base_url}/metrics", timeout=10)
    response.raise_for_status()
    text = response.text
    pattern = re.compile(r'^concierge_http_responses_total\{[^}]*status="5\d\d"[^}]*\} (\S+)$')
    return int(sum(float(m.group(1)) for line in text.splitlines() if (m := pattern.match(line))))


# --- the bot under test ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_bot(
    log_path: Path, *, rate_limits: bool = False, timeout_s: float = 300
) -> Iterator[str]:
    """``python -m bot run`` on a free loopback port, as described in the module docstring."""
    workdir = Path(tempfile.mkdtemp(prefix="concierge-fuzz-"))
    port, dead = _free_port(), _free_port()  # nothing listens on `dead`
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "CONCIERGE__SERVER__API_TOKEN": API_TOKEN,
        "CONCIERGE__SERVER__RATE_LIMIT__ENABLED": str(rate_limits).lower(),
        "CONCIERGE__SHOP_STORE__DATABASE": str(workdir / "shop.sqlite"),
        "CONCIERGE__ACTION_SERVER__PICK_FREE_PORT": "true",
        "CONCIERGE__LOGGING__FORMAT": "json",
        "CONCIERGE__CHANNELS__SEND_ATTEMPTS": "1",
        "CONCIERGE__CHANNELS__TELEGRAM__ENABLED": "true",
        "CONCIERGE__CHANNELS__TELEGRAM__BOT_TOKEN": "123456:fuzz",
        "CONCIERGE__CHANNELS__TELEGRAM__SECRET_TOKEN": TELEGRAM_SECRET,
        "CONCIERGE__CHANNELS__TELEGRAM__API_BASE_URL": f"http://127.0.0.1:{dead}",
        "CONCIERGE__CHANNELS__WHATSAPP__ENABLED": "true",
        "CONCIERGE__CHANNELS__WHATSAPP__ACCESS_TOKEN": "fuzz-access",
        "CONCIERGE__CHANNELS__WHATSAPP__APP_SECRET": WHATSAPP_SECRET,
        "CONCIERGE__CHANNELS__WHATSAPP__VERIFY_TOKEN": "fuzz-verify",
        "CONCIERGE__CHANNELS__WHATSAPP__PHONE_NUMBER_ID": "1000",
        "CONCIERGE__CHANNELS__WHATSAPP__API_BASE_URL": f"http://127.0.0.1:{dead}",
    }
    command = [sys.executable, "-m", "bot", "run", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the bot exited: {log_path.read_text()[-2000:]}")
            with suppress(OSError), urllib.request.urlopen(f"{url}/ready", timeout=2) as answer:
                if answer.status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the bot was not ready after {timeout_s}s")
            time.sleep(0.5)
        yield url
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def unexpected_errors(log_path: Path) -> int:
    """Lines of the bot's log that report an exception nobody handled."""
    return sum(
        "unexpected error" in line for line in log_path.read_text(errors="replace").splitlines()
    )


def print_table(report: dict[str, Any]) -> None:
    print(f"\n{'operation':45} {'requests':>8} {'2xx':>6} {'4xx':>6} {'5xx':>4} {'hang':>4} "
          f"{'checks':>6} {'p95 ms':>8} {'max ms':>8}")  # fmt: skip
    for label, op in report["operations"].items():
        checks = sum(op["check_failures"].values())
        p95, top = op["p95_ms"] or 0, op["max_ms"] or 0
        print(f"{label:45} {op['requests']:8} {op['2xx']:6} {op['4xx']:6} {op['5xx']:4} "
              f"{op['timeouts']:4} {checks:6} {p95:8.1f} {top:8.1f}")  # fmt: skip
    t = report["totals"]
    checks = sum(t["check_failures"].values())
    print(f"{'total':45} {t['requests']:8} {t['2xx']:6} {t['4xx']:6} {t['5xx']:4} "
          f"{t['timeouts']:4} {checks:6}   in {t['seconds']} s")  # fmt: skip
    if t["check_failures"]:
        print("check failures:", t["check_failures"])
    for key in ("server_5xx_counted", "log_unexpected_errors", "healthy_after"):
        if key in report:
            print(f"{key}: {report[key]}")


def main(args: argparse.Namespace) -> dict[str, Any]:
    def progress(line: str) -> None:
        print(line, flush=True)

    kwargs: dict[str, Any] = {
        "examples": args.examples,
        "hostile_examples": args.hostile_examples,
        "timeout_s": args.timeout,
        "seed_value": args.seed,
        "progress": progress,
    }
    if args.spec:
        kwargs["spec"] = yaml.safe_load(args.spec.read_text(encoding="utf-8"))
    if args.url:
        report = fuzz(args.url.rstrip("/"), token=args.token, **kwargs)
        with suppress(requests.RequestException, ValueError):  # a bot without /metrics
            report["server_5xx_counted"] = server_side_errors(args.url.rstrip("/"))
    else:
        log_path = args.log or Path(tempfile.gettempdir()) / "concierge-fuzz-bot.log"
        with running_bot(log_path, rate_limits=args.rate_limits) as url:
            report = fuzz(url, **kwargs)
            report["server_5xx_counted"] = server_side_errors(url)
            health = requests.get(f"{url}/health", timeout=10)
            report["healthy_after"] = health.status_code == 200
        report["log_unexpected_errors"] = unexpected_errors(log_path)
        report["bot_log"] = str(log_path)
    report["settings"] = {
        "examples": args.examples,
        "hostile_examples": args.hostile_examples or args.examples,
        "timeout_s": args.timeout,
        "seed": args.seed,
        "rate_limits": args.rate_limits,
        "schemathesis": schemathesis.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
    }
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="fuzz a bot already running there (default: start one)")
    parser.add_argument("--token", default=API_TOKEN, help="its server.api_token")
    parser.add_argument("--spec", type=Path, help="fuzz from this description (YAML or JSON)")
    parser.add_argument("--examples", type=int, default=340,
                        help="examples per operation and mode (positive, negative)")  # fmt: skip
    parser.add_argument("--hostile-examples", type=int, default=None,
                        help="hostile bodies per JSON operation (default: --examples)")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a hang")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rate-limits", action="store_true", help="keep server.rate_limit on")
    parser.add_argument("--log", type=Path, help="where the started bot's log goes")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/fuzz.json")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    result = main(arguments)
    print_table(result)
    arguments.json.parent.mkdir(parents=True, exist_ok=True)
    arguments.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {arguments.json}")
    failed = result["totals"]["5xx"] or result["totals"]["timeouts"]
    raise SystemExit(1 if failed else 0)
