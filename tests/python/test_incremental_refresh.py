"""An incremental refresh gives exactly the warehouse a full refresh gives,
its exports arriving as files (raw_path): the scenario of refresh_checks
(base files, two increments with bad rows reaching back into the base,
every mart against a --full-refresh build, floats bit for bit).
"""

from __future__ import annotations

from pathlib import Path

from refresh_checks import FORMAT, add_files, assert_refresh_equals_full_refresh, raw_folder


def test_incremental_refresh_equals_full_refresh(tmp_path: Path):
    assert_refresh_equals_full_refresh(
        tmp_path,
        lambda project: {"raw_path": str(raw_folder(project)), "raw_format": FORMAT},
        add_files,
    )
