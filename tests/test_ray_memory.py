"""A memory-capped Ray run (issue 12): object store 100 MiB, map tasks flushing every 4 MB, the whole of
../shared/corpora/train (325 MB of text).  The run must spill to disk and still give the local engine's table,
byte for byte after ``bbpe count --merge``.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from conftest import TRAIN_DIR

from bbpe.cli import main
from bbpe.pretokenize.patterns import CL100K
from bbpe.training.counting.pretokens import CountSettings
from bbpe.training.counting.process_pool import count_local

pytest.importorskip("pyarrow")
pytestmark = pytest.mark.slow

STORE_BYTES = 100 << 20
FLUSH_BYTES = 4 << 20
BUCKETS = 16


class SpillWatch:
    """Polls Ray's spill folder while a run goes on; ``peak`` is the most bytes seen there at once."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.peak = folder, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.wait(0.2):
            size = sum(f.stat().st_size for f in self.folder.rglob("*") if f.is_file()) if self.folder.exists() else 0
            self.peak = max(self.peak, size)

    def __enter__(self) -> SpillWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_a_capped_object_store_spills_and_gives_the_local_table(tmp_path):
    ray = pytest.importorskip("ray", reason="the Ray engine needs ray: pip install 'bbpe[ray]'")
    if not TRAIN_DIR.is_dir():
        pytest.skip(f"{TRAIN_DIR} not found (../shared corpora)")
    from bbpe.training.counting.ray_tasks import count_ray

    settings = CountSettings(CL100K)
    spill = tmp_path / "spill"
    ray.init(
        num_cpus=2,
        object_store_memory=STORE_BYTES,
        log_to_driver=False,
        include_dashboard=False,
        logging_level="ERROR",
        _system_config={
            "object_spilling_config": json.dumps({"type": "filesystem", "params": {"directory_path": str(spill)}})
        },
    )
    try:
        assert ray.cluster_resources()["object_store_memory"] == STORE_BYTES  # the cap is in force
        with SpillWatch(spill) as watch:
            count_ray([TRAIN_DIR], settings, tmp_path / "ray", buckets=BUCKETS, directory=True, flush_bytes=FLUSH_BYTES)
    finally:
        ray.shutdown()
    assert watch.peak > STORE_BYTES // 2, f"only {watch.peak:,} bytes were spilled"
    count_local([TRAIN_DIR], settings, tmp_path / "local", buckets=BUCKETS, directory=True, workers=2)
    merged = []
    for name in ("ray", "local"):
        out = tmp_path / f"{name}.parquet"
        assert main(["count", "--merge", str(tmp_path / name), "-o", str(out), "-q"]) == 0
        merged.append(out.read_bytes())
    assert merged[0] == merged[1]
