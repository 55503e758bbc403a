"""The trainer of candidate models: the backend does not train (it has no Rasa); it starts scripts/retrain.py in
the conversation side's environment on this machine and watches it (docs/bot.md, "Training, checking,
rolling out")."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api.errors import Conflict
from api.services import bot_models
from api.settings import ROOT, Settings

log = logging.getLogger(__name__)


class Trainer(Protocol):
    """Starts the training of a candidate (the backend does not train: it has no Rasa)."""

    def start(self, job: bot_models.TrainingJob) -> None: ...


class LocalTrainer:
    """Runs scripts/retrain.py in the conversation side's environment on this machine, in the background:
    it writes the job beside the candidate, starts the trainer with its output in ``train.log`` there,
    and marks the training failed if the trainer exits without having said how it ended."""

    def __init__(self, settings: Settings, session_factory: sessionmaker[Session], clock: Callable[[], datetime]):
        self.settings = settings
        self.session_factory = session_factory
        self.clock = clock
        self.watchers: dict[int, threading.Thread] = {}

    def command(self, job_file: str) -> list[str]:
        return [self.settings.bot_python, str(ROOT / "scripts" / "retrain.py"), "train", "--job", job_file]

    def start(self, job: bot_models.TrainingJob) -> None:
        job.directory.mkdir(parents=True, exist_ok=True)
        job_file = job.directory / "job.json"
        job_file.write_text(
            json.dumps(
                {
                    "model_id": job.model_id,
                    "directory": str(job.directory),
                    "training_data": job.training_data,
                    "held_out_data": job.held_out_data,
                    "running_id": job.running_id,
                    "running_file": str(job.running_file),
                    "expected_seconds": job.expected_seconds,
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        env = {
            **os.environ,
            "API_URL": self.settings.api_url,
            "API_TOKEN": self.settings.api_token.get_secret_value(),
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
            "PYTHONUNBUFFERED": "1",
            "PYTHONWARNINGS": "ignore",
        }
        with (job.directory / "train.log").open("ab") as output:
            try:
                process = subprocess.Popen(
                    self.command(str(job_file)), cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
                )
            except OSError as exc:
                self._failed(job.model_id, f"训练进程无法启动：{exc}")
                raise Conflict(
                    f"训练进程无法启动（{self.settings.bot_python}）：{exc}", code="trainer_unavailable"
                ) from None
        watcher = threading.Thread(target=self._watch, args=(process, job), daemon=True, name=f"trainer-{job.model_id}")
        self.watchers[job.model_id] = watcher
        watcher.start()

    def _watch(self, process: subprocess.Popen[bytes], job: bot_models.TrainingJob) -> None:
        code = process.wait()
        if code != 0:
            self._failed(job.model_id, f"训练进程异常退出（退出码 {code}），详见 {job.directory / 'train.log'}")

    def _failed(self, model_id: int, error: str) -> None:
        try:
            with self.session_factory() as session:
                if bot_models.fail_if_training(session, model_id, error, self.clock()):
                    log.error("training of model %s failed: %s", model_id, error)
        except SQLAlchemyError:  # the stale check marks it later
            log.exception("could not mark the training of model %s failed", model_id)


# --- bodies ------------------------------------------------------------------------------------------
