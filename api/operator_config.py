"""The operator file as the backend reads it: facts that vary by company or year (season dates,
working-day corrections, the company's promises and escalation settings).

The file is ``config/operator.yml`` or the one named by ``OPERATOR_CONFIG``; the repository ships
``config/operator.sample.yml`` with sample values. Both environments validate it with the same
``heating_standard.operator.parse``; a wrong file stops the backend at start-up with a clear message.
"""

from __future__ import annotations

from pathlib import Path

from heating_standard.operator import SAMPLE_NAME, OperatorFile, OperatorFileError, choose, parse

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
SAMPLE_PATH = CONFIG_DIR / SAMPLE_NAME


class OperatorConfigError(RuntimeError):
    """The operator configuration file is missing or invalid."""


def resolve_path(configured: str | None) -> Path:
    """OPERATOR_CONFIG if set, else config/operator.yml if present, else the shipped sample."""
    chosen = choose(configured, (CONFIG_DIR / "operator.yml").exists())
    return Path(chosen) if configured else CONFIG_DIR / chosen


def load_operator_config(path: Path) -> OperatorFile:
    """Read and validate the operator file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OperatorConfigError(f"cannot read the operator configuration {path}: {exc}") from None
    try:
        return parse(text, str(path), is_sample=path.resolve() == SAMPLE_PATH.resolve())
    except OperatorFileError as exc:
        raise OperatorConfigError(f"the operator configuration is invalid: {exc}") from None
