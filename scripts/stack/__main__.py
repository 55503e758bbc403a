"""``python3 scripts/stack <command>``: what the Makefile runs."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # scripts/, where the package is

from stack.cli import main  # noqa: E402

sys.exit(main())
