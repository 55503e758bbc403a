#!/usr/bin/env python3
"""A stand-in for the conversation side's Python in the scaled layout's test (the suite trains for real
once, in tests/e2e/test_bot_models.py): the backend's launcher starts it as it starts scripts/retrain.py
(``BOT_PYTHON scripts/retrain.py train --job FILE``). It hands over as the candidate the model that test
trained for real on the same repository build and the same reviewed wording (``E2E_TRAINED_CANDIDATE``),
or, when this test runs without it, the model in force; and reports figures as good as the model in
force's, so that a rollout can be tried on two Rasa processes behind the balancer without a second
training."""

from __future__ import annotations

import json
import os
import shutil
import sys
import urllib.request
from pathlib import Path

arguments = sys.argv[1:]
job = json.loads(Path(arguments[arguments.index("--job") + 1]).read_text(encoding="utf-8"))
trained = os.environ.get("E2E_TRAINED_CANDIDATE", "")
source = trained if trained and os.path.exists(trained) else job["running_file"]
shutil.copyfile(source, os.path.join(job["directory"], "model.tar.gz"))
figures = {
    "test": {"total": 290, "answered": 265, "clarified": 25, "wrong": 6, "top1": 273},
    "held_out": {"total": 1, "answered": 1, "clarified": 0, "wrong": 0, "top1": 1},
    "out_of_domain": {"total": 60, "declined": 57},
    "conversations": {"total": 40, "passed": 40},
}
body = {
    "status": "ready",
    "progress": "完成",
    "percent": 100,
    "figures": {"candidate": figures, "running": figures},
    "training_seconds": 0.1,
}
request = urllib.request.Request(
    f"{os.environ['API_URL']}/api/v1/models/{job['model_id']}/progress",
    data=json.dumps(body).encode(),
    method="POST",
    headers={"Authorization": f"Bearer {os.environ['API_TOKEN']}", "Content-Type": "application/json"},
)
with urllib.request.urlopen(request, timeout=30) as answer:
    sys.exit(0 if answer.status == 200 else 1)
