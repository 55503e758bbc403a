"""The Rasa model: the hash of its inputs, and training it when they changed."""

from __future__ import annotations

import hashlib
from pathlib import Path

from stack.config import MODEL_INPUTS, MODELS, MODELS_KEPT, ROOT, say
from stack.envs import BOT_VENV, run

# --------------------------------------------------------------------------- model


def model_digest() -> str:
    """A hash of everything that decides the trained model."""
    digest = hashlib.sha256()
    for name in MODEL_INPUTS:
        path = ROOT / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if not file.exists():
                continue
            digest.update(str(file.relative_to(ROOT)).encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def model_path() -> Path:
    return MODELS / f"{model_digest()}.tar.gz"


def use_repository_build(env: dict[str, str], path: Path) -> None:
    """Tell the backend where the repository's build is: it serves it to the Rasa processes (endpoints.yml's
    ``models``: Rasa pulls the model in force from the backend) until a candidate is rolled out."""
    env["BOT_BASE_MODEL"] = str(path)


def ensure_model(env: dict[str, str]) -> Path:
    """Train the model unless one for exactly these inputs is cached in models/."""
    target = model_path()
    if target.exists():
        return target
    say(f"training the model (inputs changed) -> {target.relative_to(ROOT)}")
    MODELS.mkdir(exist_ok=True)
    run(
        [
            BOT_VENV.bin("rasa"),
            "train",
            "--fixed-model-name",
            target.name.removesuffix(".tar.gz"),
            "--out",
            str(MODELS),
            "--config",
            "config.yml",
            "--domain",
            "domain.yml",
            "--data",
            "data",
        ],
        env=env,
    )
    old = sorted(MODELS.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in old[MODELS_KEPT:]:
        stale.unlink()
    return target
