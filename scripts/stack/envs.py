"""The interpreters, the two virtual environments built from their locks, and the stores' migrations."""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from stack.config import ROOT, VAR, VENVS, StackError, say

# --------------------------------------------------------------------------- interpreters


def _python_version(executable: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    major, minor = out.stdout.strip().split(".")
    return int(major), int(minor)


def find_python310() -> str:
    """Python 3.10 for Rasa: on PATH, else pyenv's 3.10.x, else a uv-managed one."""
    candidates: list[str] = []
    on_path = shutil.which("python3.10")
    if on_path:
        candidates.append(on_path)  # a pyenv shim may refuse; checked below
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    if shutil.which("pyenv"):
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            pyenv_root = out.stdout.strip()
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/3.10.*/bin/python"), reverse=True)
    if shutil.which("uv"):
        out = subprocess.run(["uv", "python", "find", "3.10"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(out.stdout.strip())
    for candidate in candidates:
        if _python_version(candidate) == (3, 10):
            return candidate
    raise StackError(
        "Python 3.10 is needed for the conversation side (Rasa 3.6 runs on 3.8-3.10 only) "
        "and none was found.\n"
        "  Install one, then run the command again:\n"
        "    pyenv install 3.10        # with pyenv\n"
        "    uv python install 3.10    # or with uv\n"
        "    apt-get install python3.10 python3.10-venv   # or from your distribution"
    )


def find_python_api() -> str:
    """Python 3.11 or newer for the backend."""
    for name in ("python3", "python3.13", "python3.12", "python3.11"):
        path = shutil.which(name)
        version = _python_version(path) if path else None
        if version and version >= (3, 11):
            return path  # type: ignore[return-value]
    raise StackError(
        "Python 3.11 or newer is needed for the backend and none was found on PATH.\n"
        "  Install one (pyenv install 3.11, uv python install 3.11, or your distribution's "
        "python3.11), then run the command again."
    )


# --------------------------------------------------------------------------- environments


@dataclass(frozen=True)
class Venv:
    """One virtual environment built from one lock file."""

    name: str
    lock: Path

    @property
    def path(self) -> Path:
        return VENVS / self.name

    def bin(self, program: str) -> str:
        return str(self.path / "bin" / program)

    def ensure(self, python: str, want: tuple[int, int] | None) -> None:
        """Create the venv and install the lock, unless the installed lock is the same."""
        stamp = self.path / ".installed-lock.sha256"
        digest = hashlib.sha256(self.lock.read_bytes()).hexdigest()
        python_in_venv = self.path / "bin" / "python"
        have = _python_version(str(python_in_venv)) if python_in_venv.exists() else None
        if have and want and have[:2] != want and not (want == (3, 11) and have >= want):
            say(f"{self.path} has Python {have[0]}.{have[1]}; recreating it")
            shutil.rmtree(self.path)
            have = None
        if have and stamp.exists() and stamp.read_text().strip() == digest:
            return
        if not have:
            say(f"creating {self.path.relative_to(ROOT)} with {python}")
            run([python, "-m", "venv", str(self.path)])
        say(f"installing {self.lock.relative_to(ROOT)} into {self.path.relative_to(ROOT)} (a few minutes)")
        pip = [self.bin("python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        run_quietly(pip + ["-r", str(self.lock)])
        stamp.write_text(digest + "\n")


BOT_VENV = Venv("bot", ROOT / "requirements" / "bot.lock")
API_VENV = Venv("api", ROOT / "requirements" / "api.lock")


def run(cmd: list[str], env: dict[str, str] | None = None, check: bool = True) -> int:
    """Run a command in the project root, streaming its output."""
    result = subprocess.run(cmd, cwd=ROOT, env=env)
    if check and result.returncode != 0:
        raise StackError(f"command failed ({result.returncode}): {' '.join(cmd)}")
    return result.returncode


def run_quietly(cmd: list[str]) -> None:
    """Run a command, showing its output only when it fails."""
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise StackError(f"command failed ({result.returncode}): {' '.join(cmd)}\n" + "\n".join(output[-30:]))


def ensure_bot_env() -> None:
    BOT_VENV.ensure(find_python310(), (3, 10))


def ensure_api_env() -> None:
    API_VENV.ensure(find_python_api(), (3, 11))


def migrate(env: dict[str, str]) -> None:
    """Bring the backend's database to the newest schema (Alembic)."""
    VAR.mkdir(exist_ok=True)
    run([API_VENV.bin("alembic"), "-c", "api/alembic.ini", "upgrade", "head"], env=env)


def migrate_conversation_stores(env: dict[str, str]) -> None:
    """The channel's outbox and the action servers' spool (bot/stores.py), each by its own migrations."""
    VAR.mkdir(exist_ok=True)
    # Rasa's modules, read for the tracker store's address, warn about their own deprecations on import
    run([BOT_VENV.bin("python"), "-m", "bot.stores", "upgrade"], env={**env, "PYTHONWARNINGS": "ignore"})
