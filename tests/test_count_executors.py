"""Sharded counting (issue 12): map tasks -> sorted runs in P buckets -> reduce tasks -> part files.

The same input and settings give the same table on every executor and for any number of workers and
buckets: byte-identical after ``bbpe count --merge`` into one file.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import MIX, TRAIN_DIR, real_text

from bbpe.cli import main
from bbpe.errors import BBPEError
from bbpe.pretokenize.patterns import CL100K
from bbpe.training.counting import process_pool as local_executor
from bbpe.training.counting.map_tasks import read_run, write_run
from bbpe.training.counting.pretokens import CountSettings, count_corpus
from bbpe.training.counting.reduce_tasks import merged_rows

pytest.importorskip("pyarrow")
from bbpe.formats import counts as counts_file


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("executors")
    text = real_text(6_000, names=MIX)
    paths = []
    for index in range(3):
        path = folder / f"part{index}.txt"
        path.write_text(text[index * len(text) // 3 : (index + 1) * len(text) // 3], encoding="utf-8")
        paths.append(path)
    return paths


def count(argv: list[str]) -> None:
    assert main(["count", *argv, "-q"]) == 0


def merged_bytes(tmp_path: Path, name: str, sources: list[str]) -> bytes:
    out = tmp_path / f"{name}.parquet"
    count(["--merge", *sources, "-o", str(out)])
    return out.read_bytes()


def test_any_number_of_buckets_and_workers_gives_the_same_table(corpus, tmp_path):
    inputs = [str(p) for p in corpus]
    files = []
    for parts, workers in ((1, 1), (7, 2), (64, 2)):
        out = tmp_path / f"p{parts}"
        count([*inputs, "-o", f"{out}/", "--parts", str(parts), "--workers", str(workers)])
        assert sorted(os.listdir(out)) == [f"part-{b:05d}.parquet" for b in range(parts)]
        files.append(merged_bytes(tmp_path, f"m{parts}", [str(out)]))
    singles = []
    for path in corpus:  # one count file per input, added up
        single = tmp_path / f"{path.stem}.parquet"
        count([str(path), "-o", str(single), "--workers", "1"])
        singles.append(str(single))
    files.append(merged_bytes(tmp_path, "per-file", singles))
    assert files[0] == files[1] == files[2] == files[3]
    whole = counts_file.read(tmp_path / "p7")
    assert whole.counts == count_corpus(corpus, CountSettings(CL100K), workers=1)
    assert whole.corpus["bytes"] == sum(p.stat().st_size for p in corpus)


def test_parts_hold_disjoint_words_and_min_count_prunes(corpus, tmp_path):
    out = tmp_path / "parts"
    count([*map(str, corpus), "-o", str(out), "--parts", "5", "--min-count", "3"])
    seen: set[bytes] = set()
    for part in sorted(out.iterdir()):
        words = set(counts_file.read(part).counts)
        assert not words & seen
        seen |= words
    everything = count_corpus(corpus, CountSettings(CL100K), workers=1)
    assert counts_file.read(out).counts == {w: c for w, c in everything.items() if c >= 3}


def test_small_flushes_give_the_same_table_and_leave_no_runs(corpus, tmp_path):
    temp = tmp_path / "temp"
    temp.mkdir()
    out = tmp_path / "flushed"
    local_executor.count_local(
        corpus, CountSettings(CL100K), out, buckets=3, directory=True, workers=2, flush_bytes=20_000, temp_dir=str(temp)
    )
    assert counts_file.read(out).counts == count_corpus(corpus, CountSettings(CL100K), workers=1)
    assert list(temp.iterdir()) == []


def test_train_from_a_counts_directory_equals_training_on_the_corpus(corpus, tmp_path):
    out = tmp_path / "dir"
    count([*map(str, corpus), "-o", f"{out}/"])
    from_dir, direct = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["train", "--from-counts", str(out), "--vocab", "400", "-o", str(from_dir), "-q"]) == 0
    assert main(["train", *map(str, corpus), "--vocab", "400", "-o", str(direct), "-q"]) == 0
    import bbpe

    assert bbpe.load(from_dir).ranks == bbpe.load(direct).ranks


def test_runs_merge_in_word_order_and_add_up(tmp_path):
    write_run(str(tmp_path / "a"), iter([(b"a", 1), (b"c", 2)]))
    write_run(str(tmp_path / "b"), iter([(b"a", 4), (b"b", 1), (b"c\xff", 7)]))
    assert list(read_run(tmp_path / "b")) == [(b"a", 4), (b"b", 1), (b"c\xff", 7)]
    runs = [str(tmp_path / "a"), str(tmp_path / "b")]
    assert list(merged_rows(runs)) == [(b"a", 5), (b"b", 1), (b"c", 2), (b"c\xff", 7)]
    assert list(merged_rows(runs, min_count=3)) == [(b"a", 5), (b"c\xff", 7)]


def test_a_dead_map_worker_is_one_error_and_leaves_no_runs(corpus, tmp_path, monkeypatch):
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(local_executor, "map_unit", _die)
    with pytest.raises(BBPEError, match="a worker process died"):
        local_executor.count_local(
            corpus, CountSettings(CL100K), tmp_path / "o", buckets=2, directory=True, workers=2, temp_dir=str(temp)
        )
    assert list(temp.iterdir()) == [] and not (tmp_path / "o").exists()


def _die(*args: object) -> None:
    os._exit(9)


def test_an_unreadable_url_or_a_missing_extra_is_one_line(corpus, tmp_path, capsys, monkeypatch):
    assert main(["count", "file:///no/such/dir/x.txt", "-o", str(tmp_path / "u.parquet"), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "file:///no/such/dir/x.txt: cannot open" in err
    if importlib.util.find_spec("ray") is not None:
        assert (
            main(
                [
                    "count",
                    str(corpus[0]),
                    "-o",
                    str(tmp_path / "a/"),
                    "--executor",
                    "ray",
                    "--address",
                    "127.0.0.1:1",
                    "-q",
                ]
            )
            == 2
        )
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "cannot reach the Ray cluster at 127.0.0.1:1" in err
    monkeypatch.setitem(sys.modules, "ray", None)
    assert main(["count", str(corpus[0]), "-o", str(tmp_path / "r/"), "--executor", "ray", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'bbpe[ray]'" in err


def test_urls_are_read_by_their_task(corpus, tmp_path):
    pytest.importorskip("fsspec")
    out = tmp_path / "url.parquet"
    count([f"file://{corpus[0]}", str(corpus[1]), "-o", str(out)])
    assert counts_file.read(out).counts == count_corpus(corpus[:2], CountSettings(CL100K), workers=1)


def test_url_folders_and_globs_stand_for_their_text_files(corpus, tmp_path, capsys):
    pytest.importorskip("fsspec")
    folder = corpus[0].parent
    expected = count_corpus(corpus, CountSettings(CL100K), workers=1)
    for index, url in enumerate((f"file://{folder}/", f"file://{folder}", f"file://{folder}/part*.txt")):
        out = tmp_path / f"u{index}.parquet"
        count([url, "-o", str(out)])
        assert counts_file.read(out).counts == expected
        assert counts_file.read(out).corpus["files"] == 3
    (tmp_path / "empty").mkdir()
    assert main(["count", f"file://{tmp_path}/empty/", "-o", str(tmp_path / "e.parquet"), "-q"]) == 2
    assert capsys.readouterr().err.count("holds no *.txt or *.jsonl files") == 1
    assert main(["count", f"file://{tmp_path}/empty/*.txt", "-o", str(tmp_path / "e.parquet"), "-q"]) == 2
    assert "matches no files" in capsys.readouterr().err
    assert main(["count", str(corpus[0]), "-o", "s3://bucket/counts/", "-q"]) == 2
    assert "URL outputs are not supported" in capsys.readouterr().err


def test_train_executor_errors_are_one_line(corpus, tmp_path, capsys, monkeypatch):
    out = str(tmp_path / "v.json")
    cases = [(["--address", "127.0.0.1:1"], "--address needs --executor ray")]
    if importlib.util.find_spec("ray") is not None:
        cases.append((["--executor", "ray", "--address", "127.0.0.1:1"], "cannot reach the Ray cluster at 127.0.0.1:1"))
    for extra, message in cases:
        assert main(["train", str(corpus[0]), "--vocab", "300", "-o", out, "-q", *extra]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    counts = tmp_path / "c.parquet"
    count([str(corpus[0]), "-o", str(counts)])
    assert main(["train", "--from-counts", str(counts), "--vocab", "300", "-o", out, "--executor", "local", "-q"]) == 2
    assert "--executor applies to counting" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "ray", None)
    assert main(["train", str(corpus[0]), "--vocab", "300", "-o", out, "--executor", "ray", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'bbpe[ray]'" in err
    assert not Path(out).exists()


def test_a_ray_run_leaves_bbpe_stderr_to_bbpe(corpus, tmp_path):
    """A local Ray instance started by the command: nothing of Ray's on stderr (-q: nothing at all)."""
    pytest.importorskip("ray")
    argv = [sys.executable, "-m", "bbpe", "train", *map(str, corpus), "--executor", "ray", "--vocab", "300", "-q"]
    done = subprocess.run([*argv, "-o", str(tmp_path / "v.json")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stderr == "", done.stderr


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray instance in this process (2 CPUs), shared by the Ray tests."""
    ray = pytest.importorskip("ray", reason="the Ray executor needs ray: pip install 'bbpe[ray]'")
    ray.init(num_cpus=2, log_to_driver=False, include_dashboard=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


def test_ray_gives_the_local_table_byte_for_byte(ray_cluster, corpus, tmp_path):
    inputs = [str(p) for p in corpus]
    merged = []
    for executor, parts in (("local", 7), ("ray", 1), ("ray", 64)):
        out = tmp_path / f"{executor}{parts}"
        count([*inputs, "-o", f"{out}/", "--parts", str(parts), "--executor", executor])
        merged.append(merged_bytes(tmp_path, f"{executor}{parts}m", [str(out)]))
    assert merged[0] == merged[1] == merged[2]


def test_a_killed_ray_worker_is_retried_with_the_same_table(ray_cluster, tmp_path, monkeypatch):
    from bbpe.corpus import documents
    from bbpe.training.counting.ray_tasks import count_ray

    big = tmp_path / "big.txt"
    big.write_text(real_text(60_000, names=MIX) * 2, encoding="utf-8")
    monkeypatch.setattr(documents, "RANGE_BYTES", 100_000)
    settings = CountSettings(CL100K)
    killed: list[int] = []
    stop = threading.Event()

    def kill_a_map_worker() -> None:
        while not stop.is_set() and not killed:
            for pid in _processes_titled("ray::_map_task"):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            time.sleep(0.005)

    killer = threading.Thread(target=kill_a_map_worker)
    killer.start()
    try:
        count_ray([big], settings, tmp_path / "killed", buckets=3, directory=True)
    finally:
        stop.set()
        killer.join()
    assert killed, "no map task was seen running"
    assert counts_file.read(tmp_path / "killed").counts == count_corpus([big], settings, workers=1)


def _processes_titled(prefix: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                title = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            except OSError:
                continue
            if title.startswith(prefix):
                found.append(int(entry))
    return found


def test_train_on_every_engine_writes_the_same_tokenizer_file(ray_cluster, corpus, tmp_path):
    inputs = [str(p) for p in corpus]
    files = []
    for executor in ([], ["--executor", "local"], ["--executor", "ray"]):
        out = tmp_path / f"v{len(files)}.json"
        assert main(["train", *inputs, "--vocab", "700", "--pattern", "qwen", "-o", str(out), "-q", *executor]) == 0
        files.append(out.read_bytes())
    assert files[0] == files[1] == files[2]
    import bbpe

    api = bbpe.train(corpus, vocab_size=700, pattern="qwen", executor="ray")
    assert api.ranks == bbpe.load(tmp_path / "v0.json").ranks
    assert api.metadata["corpus"]["bytes"] == sum(p.stat().st_size for p in corpus)


@pytest.mark.slow  # a JVM start-up; run once by .ci/run
def test_the_spark_recipe_writes_the_same_count_file(corpus, tmp_path):
    pytest.importorskip("pyspark", reason="the Spark recipe is tested only when pyspark is installed")
    recipe = Path(__file__).resolve().parents[1] / "scripts" / "spark_counts.py"
    inputs = [*map(str, corpus), str(TRAIN_DIR / "tha_Thai.tldr-pages.txt.gz")]
    spark, local = tmp_path / "spark.parquet", tmp_path / "local.parquet"
    env = os.environ | {"PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    subprocess.run(
        [sys.executable, str(recipe), "--master", "local[2]", str(spark), *inputs],
        check=True,
        timeout=600,
        env=env,
        capture_output=True,
    )
    count([*inputs, "-o", str(local)])
    assert merged_bytes(tmp_path, "spark-m", [str(spark)]) == merged_bytes(tmp_path, "local-m", [str(local)])


def test_a_bad_input_in_a_ray_map_task_is_its_own_one_line_error(ray_cluster, tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"hello\nbad \xff byte\n")
    assert main(["count", str(bad), "-o", str(tmp_path / "o/"), "--executor", "ray", "--strict-utf8", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.txt:2: invalid UTF-8" in err
