"""Imported first by the benchmarks: the code of the checkout a script lies in runs, not the
copy installed in the virtualenv (a worktree of another commit then measures that commit)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
