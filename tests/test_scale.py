"""The million-chunk benchmark's code at 20,000 chunks: appends, merges, IVF, recall."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_twenty_thousand_chunks_append_and_search_like_exact(tmp_path: Path) -> None:
    """Every batch adds files and rewrites none; merged segments above the (lowered) size
    threshold are IVF, and the vector search still finds >= 95% of the exact top 10."""
    out = tmp_path / "scale.json"
    subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "scale.py"), "--chunks", "20000",
         "--data-dir", str(tmp_path / "data"), "--questions", "50",
         "--approximate-from", "5000", "--out", str(out)],
        check=True, cwd=REPO, capture_output=True, timeout=900,
    )  # fmt: skip
    result = json.loads(out.read_text())
    assert result["chunks"] >= 20_000 and result["files_rewritten_in_place"] == 0
    bound = math.log2(result["batches"]) + 1
    assert len(result["segments"]) <= bound
    assert result["vector_write_amplification"] <= bound
    kinds = {kind for _, size, kind in result["segments"] if size >= 5000}
    assert kinds == {"IndexIVFScalarQuantizer"}
    assert result["recall_at_10"] >= 0.95
