"""Limits the reader enforces itself (issue 7, part 3).

- [limits] in rules/schema.toml: rows, columns, uncompressed bytes, read seconds -> clear FileErrors;
- reading any corpus file never runs away and stays under 500 MB: each is read in a forked child with an
  address-space limit, a CPU limit (a runaway parse is killed, and that fails the case) and a wall-clock
  watchdog, and the child reports its peak RSS. No wall-clock assertion: speed lives in bench/, and a
  loaded CI machine must not fail a correct reader.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path
from typing import Any

import pytest

from perechen.models import FileError
from perechen.reader import read_register
from perechen.rules import Rules
from tests.corpus import make_corpus as mc

resource = pytest.importorskip("resource", reason="POSIX only: each file is read in a child under RLIMIT_AS")

MAX_SECONDS = 5.0
MAX_RSS_MB = 500
# Address space for the child (RLIMIT_AS). Measured: a forked reader child peaks at 66 MB virtual for
# the small cases and 162 MB for formatting down to row 1,048,576, so 1 GB leaves ample room while a
# runaway allocation fails fast instead of swapping.
CHILD_AS_BYTES = 1_000_000_000


def _limited(rules: Rules, **limits: Any) -> Rules:
    schema = rules.schema.model_copy(update={"limits": rules.schema.limits.model_copy(update=limits)})
    return Rules(rules.directory, schema, rules.lists, rules.checks, rules.file_errors)


@pytest.fixture(scope="module")
def corpus() -> dict[str, Path | None]:
    return mc.corpus_dir()


def test_max_rows(corpus: dict[str, Path | None], rules: Rules) -> None:
    p = corpus["lock_beside_excel"]
    assert p is not None
    with pytest.raises(FileError) as e:
        read_register(p, _limited(rules, max_rows=5))
    assert e.value.code == "too_many_rows" and "«Перечень» 8" in e.value.message and str(p) in e.value.message


def test_max_columns(corpus: dict[str, Path | None], rules: Rules) -> None:
    p = corpus["lock_beside_excel"]
    assert p is not None
    with pytest.raises(FileError) as e:
        read_register(p, _limited(rules, max_columns=10))
    # «Перечень» has 19 columns: the extent guard refuses it before calamine reads it.
    assert e.value.code == "sheet_too_large" and "«Перечень»" in e.value.message


def test_max_uncompressed_bytes(corpus: dict[str, Path | None], rules: Rules) -> None:
    p = corpus["lock_beside_excel"]
    assert p is not None
    with pytest.raises(FileError) as e:
        read_register(p, _limited(rules, max_uncompressed_bytes=100_000))
    assert e.value.code == "zip_bomb" and "МБ" in e.value.message


def test_max_read_seconds(corpus: dict[str, Path | None], rules: Rules) -> None:
    p = corpus["formatting_to_last_row"]
    assert p is not None
    with pytest.raises(FileError) as e:
        read_register(p, _limited(rules, max_read_seconds=0.0))
    assert e.value.code == "timeout" and "max_read_seconds" in e.value.message


def _child(path: str, conn: Any) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_AS_BYTES, CHILD_AS_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (30, 30))
    from perechen.models import PerechenError

    rules = Rules.load(mc.ROOT / "rules")
    t0 = time.monotonic()
    outcome = "ok"
    try:
        reg = read_register(Path(path), rules)
        outcome = f"{len(reg.rows)} rows"
    except PerechenError as e:
        outcome = e.code
    except BaseException as e:  # reported to the parent
        outcome = f"crash {type(e).__name__}: {e}"
    took = time.monotonic() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    vm_peak = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmPeak:"):
            vm_peak = int(line.split()[1]) // 1024
    conn.send((outcome, took, peak_mb, vm_peak))
    conn.close()


def measure(path: Path) -> tuple[str, float, float, int]:
    """(outcome, seconds, peak RSS MB, peak virtual MB) of reading path in a limited child process."""
    # A fork server, not a plain fork: a child forked from the test session would inherit its address
    # space (hundreds of MB late in a full run) and hit RLIMIT_AS or report the session's RSS as its own.
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["perechen.reader", "perechen.rules", "tests.test_reader_limits"])
    recv, send = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(str(path), send), daemon=True)
    p.start()
    send.close()
    got = recv.poll(MAX_SECONDS * 6)
    if not got:
        p.kill()
        p.join()
        return ("hang", MAX_SECONDS * 6, 0.0, 0)
    res = recv.recv()
    p.join(10)
    return res  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", mc.CASES, ids=[c.name for c in mc.CASES])
def test_each_corpus_file_reads_without_runaway_under_500mb(case: mc.Case, corpus: dict[str, Path | None]) -> None:
    path = corpus[case.name]
    if path is None:
        pytest.skip(f"needs {case.needs}")
    outcome, took, peak_mb, vm_peak = measure(path)
    print(f"{case.name:28} {outcome:18} {took:6.2f} s {peak_mb:6.0f} MB RSS {vm_peak:6d} MB virtual")
    assert not outcome.startswith(("crash", "hang")), outcome
    expected = case.expect.error or f"{case.expect.rows} rows"
    if case.expect.rows is not None or case.expect.error:
        assert outcome == expected
    assert peak_mb < MAX_RSS_MB
