"""Mutation fuzzer over real .xlsx bytes, bounded in time (issue 7, part 2).

Runs for PERECHEN_FUZZ_SECONDS (default 30): the first half with the fixed seed, the rest with a random
seed that is printed (PERECHEN_FUZZ_SEED=N reproduces it). Every input that raised anything but the
tool's own errors, killed the reading process, hung or took over 5 s is saved (PERECHEN_FUZZ_OUT, else
a temp folder) and fails the test; turn each into a case in tests/corpus/regressions/.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import pytest

from tests.corpus import make_corpus as mc
from tests.corpus import mutate as mu

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only: inputs are read in forked children "
                                                                "with RLIMIT_AS")

FIXED_SEED = 20240226
SEED_CASES = ["lock_beside_excel", "shared_strings", "libreoffice_saved", "xlsxwriter_formulas", "xlsxwriter_inline",
              "strict_ooxml", "date1904", "rich_text", "title_block", "autofilter_hidden", "merged_cells",
              "error_values", "shared_formula_no_value", "xlsm_macro", "chartsheet", "hidden_first_sheet"]


def _seeds() -> list[tuple[str, bytes]]:
    corpus = mc.corpus_dir()
    return [(n, p.read_bytes()) for n in SEED_CASES if (p := corpus.get(n)) is not None]


def _fuzz(seconds: float, seed: int) -> None:
    out = Path(os.environ.get("PERECHEN_FUZZ_OUT") or tempfile.mkdtemp(prefix="perechen-fuzz-crashes-"))
    n, crashes = mu.run(_seeds(), seconds, seed)
    print(f"mutation fuzzer: seed {seed}, {n} inputs in {seconds:.0f} s, {len(crashes)} crashes")
    if crashes:
        saved = mu.save_crashes(crashes, out)
        lines = [f"{c.kind} at input {c.index} (from {c.seed_name}): {c.detail.strip().splitlines()[-1][:300]}"
                 for c in crashes]
        pytest.fail(f"{len(crashes)} crashes (seed {seed}), saved in {out}:\n" + "\n".join(lines[:20])
                    + f"\n{saved[0]} …")


def test_mutation_fuzz_fixed_seed() -> None:
    seconds = float(os.environ.get("PERECHEN_FUZZ_SECONDS", "30"))
    _fuzz(seconds / 2, FIXED_SEED)


def test_mutation_fuzz_random_seed() -> None:
    seconds = float(os.environ.get("PERECHEN_FUZZ_SECONDS", "30"))
    seed = int(os.environ.get("PERECHEN_FUZZ_SEED") or random.SystemRandom().randrange(2**31))
    _fuzz(seconds / 2, seed)


def test_mutations_are_deterministic() -> None:
    seeds = _seeds()[:2]
    assert mu.case_bytes(seeds, 7, 123) == mu.case_bytes(seeds, 7, 123)
