"""The test suites `make test` runs, each reported in one summary."""

from __future__ import annotations

import shutil
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET  # our own junit files, not untrusted input
from dataclasses import dataclass
from pathlib import Path

from stack.config import ROOT, TEST_SUITES, VAR, StackError, load_env, say
from stack.envs import API_VENV, BOT_VENV, ensure_api_env, ensure_bot_env, run
from stack.model import ensure_model, model_path

# --------------------------------------------------------------------------- tests


@dataclass
class SuiteResult:
    name: str
    passed: int
    failed: int
    skipped: int
    exit_code: int


def junit_counts(path: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) from a pytest junit XML file."""
    if not path.exists():
        return 0, 0, 0
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = failed = skipped = 0
    for suite in suites:
        total += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return total - failed - skipped, failed, skipped


def run_pytest(
    name: str, python: str, paths: list[str], env: dict[str, str], timeout: int | None = None
) -> SuiteResult:
    """One pytest suite; with ``timeout`` (pytest-timeout, the backend's environment) a test that hangs
    fails after that many seconds instead of holding the run; the slowest tests are listed at the end."""
    report = VAR / "test-reports" / f"{name}.xml"
    report.unlink(missing_ok=True)
    say(f"suite {name}: pytest {' '.join(paths)}")
    limits = [f"--timeout={timeout}"] if timeout else []
    command = [python, "-m", "pytest", "-q", "--durations=10", f"--junitxml={report}", *limits, *paths]
    code = run(command, env=env, check=False)
    passed, failed, skipped = junit_counts(report)
    if code not in (0, 5) and failed == 0:
        failed = 1  # the run itself failed (collection error, crash)
    if code == 5:
        say(f"suite {name}: no tests collected")
        failed = max(failed, 1)
    return SuiteResult(name, passed, failed, skipped, code)


# The most one test may take, set-up included: the e2e suite's one real training allows 1,200 s
# (tests/e2e/test_bot_models.py) and the scaled layout's start 400 s.
API_TEST_LIMIT = 900
E2E_TEST_LIMIT = 1800

MYPY_BACKEND = ("api", "heating_standard", "policies", "fake_wechat")


def mypy_conversation_side() -> list[str]:
    """mypy's arguments for actions, bot and channels: strict, as Python 3.10 with .venv/bot's packages."""
    return [
        "--strict",
        "--python-executable",
        BOT_VENV.bin("python"),
        "--python-version",
        "3.10",
        "actions",
        "bot",
        "channels",
    ]


LINTED = ("api", "heating_standard", "policies", "fake_wechat", "actions", "channels", "bot", "scripts", "tests")


def run_lint(env: dict[str, str]) -> list[SuiteResult]:
    """ruff's checks and format over all Python code; mypy (strict) over the backend and the shared packages,
    and over the conversation side against its own environment's packages (Python 3.10). ``make lint``
    runs this suite alone."""
    results = []
    for name, cmd in (
        ("ruff", [API_VENV.bin("ruff"), "check", *LINTED]),
        ("ruff-format", [API_VENV.bin("ruff"), "format", "--check", *LINTED]),
        ("mypy", [API_VENV.bin("mypy"), *MYPY_BACKEND]),
        ("mypy-bot", [API_VENV.bin("mypy"), *mypy_conversation_side()]),
    ):
        say(f"suite {name}: {Path(cmd[0]).name} {' '.join(cmd[1:])}")
        code = run(cmd, env=env, check=False)
        results.append(SuiteResult(name, int(code == 0), int(code != 0), 0, code))
    return results


def count_stories(path: Path) -> int:
    """Number of stories in a Rasa YAML stories file (lines like '- story: ...')."""
    if not path.exists():
        return 0
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.lstrip().startswith("- story:"))


# Debian's chromium for the pages' browser tests and benchmarks (Playwright's own download does not
# work here). Without the background-networking flags it keeps dialling hosts this machine cannot reach.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# The untouched sets of new wording the nlu-test suite reads through the trained model and its fallback
# (scripts/nlu_outcomes.py; only counts are printed, never a message).
NLU_TEST_SETS = ("tests/nlu/test.yml", "tests/nlu/test_wild.yml")
# Targets of #23 on new wording (docs/benchmarks.md): right among the answered, clarified, top-1.
NLU_TARGETS = {"right": 0.99, "clarified": 0.12, "top1": 0.94}
# `make test` fails past these floors on either set: regression guards a little worse than the figures
# measured when they were set on 2026-12-07 (fallback 0.7, margin 0, chosen on tests/nlu/dev_wild5.yml:
# right among the answered 98.5 % / 99.6 %, clarified 8.3 % / 10.7 %, top-1 0.959 / 0.969 on test / wild;
# docs/benchmarks.md), since the sets must not be tuned on.
NLU_FLOORS = {"right": 0.97, "clarified": 0.14, "top1": 0.94}


def run_nlu_test(env: dict[str, str]) -> SuiteResult:
    """Answered, clarified and wrong on the untouched sets, through the trained model's fallback."""
    say(f"suite nlu-test: {', '.join(NLU_TEST_SETS)} through the trained model")
    sets = [arg for name in NLU_TEST_SETS for arg in ("--set", name)]
    code = run(
        [
            BOT_VENV.bin("python"),
            "scripts/nlu_outcomes.py",
            "--model",
            str(model_path()),
            *sets,
            "--min-right",
            str(NLU_FLOORS["right"]),
            "--max-clarified",
            str(NLU_FLOORS["clarified"]),
            "--min-top1",
            str(NLU_FLOORS["top1"]),
        ],
        env={**env, "PYTHONWARNINGS": "ignore"},
        check=False,
    )
    say(
        f"nlu-test: targets {NLU_TARGETS['right']:.0%} right among the answered, at most "
        f"{NLU_TARGETS['clarified']:.0%} clarified, top-1 {NLU_TARGETS['top1']}; floors {NLU_FLOORS} "
        "(choose on tests/nlu/dev_wild5.yml and tests/nlu/dev.yml, never on these sets' errors)"
    )
    return SuiteResult("nlu-test", int(code == 0), int(code != 0), 0, code)


def run_rasa_suites(env: dict[str, str]) -> list[SuiteResult]:
    """`rasa data validate` and the conversation tests in tests/test_*.yml."""
    rasa = BOT_VENV.bin("rasa")
    results = []
    say("suite rasa-validate: rasa data validate")
    code = run([rasa, "data", "validate", "--fail-on-warnings"], env=env, check=False)
    results.append(SuiteResult("rasa-validate", int(code == 0), int(code != 0), 0, code))

    out = VAR / "rasa-test-results"
    shutil.rmtree(out, ignore_errors=True)
    stories = sum(count_stories(p) for p in sorted((ROOT / "tests").glob("test_*.yml")))
    say(f"suite rasa-conversations: rasa test core ({stories} stories)")
    code = run(
        [
            rasa,
            "test",
            "core",
            "--e2e",  # also checks each user text's intent, not only the actions
            "--model",
            str(model_path()),
            "--stories",
            "tests",
            "--fail-on-prediction-errors",
            "--out",
            str(out),
        ],
        env=env,
        check=False,
    )
    failed = count_stories(out / "failed_test_stories.yml")
    if code != 0 and failed == 0:
        failed = 1
    results.append(SuiteResult("rasa-conversations", stories - failed, failed, 0, code))
    results.append(run_nlu_test(env))
    return results


def ensure_services_for_tests(env: dict[str, str]) -> None:
    """PostgreSQL and Redis, which the backend's tests use for real: say so when down."""
    for name, url in (("PostgreSQL", env.get("TEST_POSTGRES_URL", "")), ("Redis", env.get("TEST_REDIS_URL", ""))):
        parsed = urllib.parse.urlsplit(url)
        if not parsed.hostname:
            continue
        try:
            socket.create_connection((parsed.hostname, parsed.port or 0), timeout=2).close()
        except OSError:
            say(
                f"{name} is not reachable at {parsed.hostname}:{parsed.port}; its tests will "
                "be skipped (they fail instead when CI=true). .ci/run starts it."
            )


def cmd_test(suites: list[str]) -> int:
    env = load_env({"APP_ENV": "test"})
    (VAR / "test-reports").mkdir(parents=True, exist_ok=True)
    wanted = suites or list(TEST_SUITES)
    results: list[SuiteResult] = []
    started = time.monotonic()
    try:
        if {"lint", "tooling", "api", "e2e"} & set(wanted):
            ensure_api_env()
        if {"lint", "bot", "rasa", "e2e"} & set(wanted):
            ensure_bot_env()
        if {"rasa", "e2e"} & set(wanted):
            ensure_model(env)
    except StackError as exc:
        say(str(exc))
        return 2
    if "lint" in wanted:
        results += run_lint(env)
    if "tooling" in wanted:
        results.append(run_pytest("tooling", API_VENV.bin("python"), ["tests/scripts", "tests/architecture"], env))
    if "api" in wanted:
        ensure_services_for_tests(env)
        results.append(
            run_pytest("api", API_VENV.bin("python"), ["tests/api", "tests/standard"], env, timeout=API_TEST_LIMIT)
        )
    if "bot" in wanted:
        bot_tests = ["tests/actions", "tests/channels", "tests/bot", "tests/standard"]
        results.append(run_pytest("bot", BOT_VENV.bin("python"), bot_tests, env))
    if "rasa" in wanted:
        results += run_rasa_suites(env)
    if "e2e" in wanted:
        results.append(run_pytest("e2e", API_VENV.bin("python"), ["tests/e2e"], env, timeout=E2E_TEST_LIMIT))

    elapsed = time.monotonic() - started
    print("\n" + "=" * 72)
    print(f"{'suite':<22}{'passed':>8}{'failed':>8}{'skipped':>9}   result")
    for r in results:
        verdict = "ok" if r.failed == 0 else "FAILED"
        print(f"{r.name:<22}{r.passed:>8}{r.failed:>8}{r.skipped:>9}   {verdict}")
    passed = sum(r.passed for r in results)
    failed = sum(r.failed for r in results)
    skipped = sum(r.skipped for r in results)
    print("=" * 72)
    print(f"all suites in {elapsed:.0f} s")
    print(f"summary: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0
