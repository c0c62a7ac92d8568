"""Safe publishing: a BI tool never reads a half-built warehouse.

BI tools read one DuckDB file (PIPELINE_DUCKDB_PATH, default
warehouse/pipeline.duckdb), opened read-only. A refresh never writes that
file. It copies it, builds the copy (dbt build, all tests), checkpoints
it, and moves it over the published path with one atomic rename:

- a reader that connects gets either the old or the new file, whole;
- a reader that is connected keeps reading the file it opened (the old
  one stays on disk until it disconnects), so long-running queries never
  make a refresh fail, nor a refresh a query;
- a refresh that fails (bad configuration, a failing test, a crash)
  removes its copy and leaves the published file as it was.

Copying first keeps what earlier refreshes recorded (the incremental
history in fct_stage_conversion_daily). A lock file lets one refresh at a
time build a given warehouse; another waits for it.

Command line, as `make build` uses it:
    python -m orchestration.publish --warehouse warehouse/pipeline.duckdb -- dbt build
runs the command with PIPELINE_DUCKDB_PATH pointing at the copy, and
publishes when it exits 0.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

DEFAULT_WAREHOUSE = Path(__file__).resolve().parent.parent / "warehouse" / "pipeline.duckdb"


def published_warehouse() -> Path:
    """The file BI tools read: PIPELINE_DUCKDB_PATH, else warehouse/pipeline.duckdb."""
    return Path(os.environ.get("PIPELINE_DUCKDB_PATH") or DEFAULT_WAREHOUSE).resolve()


def wal_of(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


@contextmanager
def building_copy(published: Path) -> Iterator[Path]:
    """Yields a private copy of the published warehouse to build into; when
    the block ends without an error the copy replaces the published file,
    otherwise the copy is removed and the published file is untouched."""
    published = published.resolve()
    published.parent.mkdir(parents=True, exist_ok=True)
    building = published.with_name(f".{published.name}.building")
    with _one_refresh_at_a_time(published):
        _remove(building)  # left by a refresh that crashed
        if published.exists():
            shutil.copyfile(published, building)
            # A file written in place by a plain `dbt build` may have its
            # last changes in a WAL beside it; DuckDB replays it on open.
            if wal_of(published).exists():
                shutil.copyfile(wal_of(published), wal_of(building))
        try:
            yield building
            _seal(building)
            os.replace(building, published)
            _fsync_directory(published.parent)
        except BaseException:
            _remove(building)
            raise


def _seal(database: Path) -> None:
    """Everything in the one file: a WAL does not follow a rename."""
    if not database.exists():
        raise RuntimeError(f"the refresh wrote nothing to {database}")
    with duckdb.connect(str(database)) as connection:
        connection.execute("checkpoint")
    if wal_of(database).exists():
        raise RuntimeError(f"{wal_of(database)} is still there after a checkpoint")
    with database.open("rb") as handle:
        os.fsync(handle.fileno())


@contextmanager
def _one_refresh_at_a_time(published: Path) -> Iterator[None]:
    lock_path = published.with_name(f".{published.name}.lock")
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _remove(database: Path) -> None:
    database.unlink(missing_ok=True)
    wal_of(database).unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=None,
        help="the published DuckDB file (default: PIPELINE_DUCKDB_PATH, "
        "else warehouse/pipeline.duckdb)",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the build command")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the build command after --, e.g. -- dbt build")
    published = (args.warehouse or published_warehouse()).resolve()
    try:
        with building_copy(published) as building:
            env = {**os.environ, "PIPELINE_DUCKDB_PATH": str(building)}
            result = subprocess.run(command, env=env, check=False)
            if result.returncode != 0:
                raise _BuildFailed(result.returncode)
    except _BuildFailed as failure:
        print(
            f"publish: the build failed (exit {failure.returncode}); {published} is unchanged",
            file=sys.stderr,
        )
        return failure.returncode
    print(f"publish: {published} now holds this build", file=sys.stderr)
    return 0


class _BuildFailed(Exception):
    def __init__(self, returncode: int):
        super().__init__(returncode)
        self.returncode = returncode


if __name__ == "__main__":
    sys.exit(main())
