"""Safe publishing: a BI tool never reads a half-built or mixed warehouse.

BI tools read one DuckDB file (PIPELINE_DUCKDB_PATH, default
warehouse/pipeline.duckdb), opened read-only, or the marts as Parquet
files in the folder marts/ beside it. A refresh never writes either. It
builds a private copy (dbt build, all tests), records what it was built
from, checkpoints it, writes the marts as Parquet, and moves the file over
the published path with one atomic rename, then points marts/ at the new
Parquet files with another:

- a reader that connects gets either the old or the new file, whole;
- a reader that is connected keeps reading the file it opened (the old
  one stays on disk until it disconnects), so long-running queries never
  make a refresh fail, nor a refresh a query;
- a refresh that fails (bad configuration, an unreadable export file, a
  failing test, a crash) removes its copy and leaves the published file
  and its Parquet marts as they were.

The copy starts from the published file when the new build reads the same
inputs (export folder, raw format, configuration, timestamp format,
encoding) and every export file it read is unchanged: then the refresh is
incremental and keeps what earlier refreshes recorded (the history in
fct_stage_conversion_daily). Otherwise it starts from an empty file and
rebuilds from scratch, saying why (orchestration.build_inputs). A lock file
lets one refresh at a time build a given warehouse; another waits for it.

Command line, as `make build` uses it (runs `dbt build`):
    python -m orchestration.publish --warehouse warehouse/pipeline.duckdb \\
        [--raw-path DIR] [--raw-format csv|parquet] [--config-path DIR] \\
        [--vars '{as_of_date: 2026-06-30}'] [-- other dbt build arguments]
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from orchestration.build_inputs import (
    INPUT_VARS,
    REPO_ROOT,
    BuildInputs,
    published_record,
    rebuild_reason,
    write_record,
)

DEFAULT_WAREHOUSE = REPO_ROOT / "warehouse" / "pipeline.duckdb"
# The dbt of this interpreter's environment, whatever PATH says.
DBT_EXECUTABLE = (
    str(Path(sys.executable).with_name("dbt"))
    if Path(sys.executable).with_name("dbt").exists()
    else (shutil.which("dbt") or "dbt")
)


def published_warehouse() -> Path:
    """The file BI tools read: PIPELINE_DUCKDB_PATH, else warehouse/pipeline.duckdb."""
    return Path(os.environ.get("PIPELINE_DUCKDB_PATH") or DEFAULT_WAREHOUSE).resolve()


def marts_folder(published: Path) -> Path:
    """Where the published marts are as Parquet files: marts/ beside the file."""
    return published.parent / "marts"


def wal_of(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


def say(message: str) -> None:
    print(f"publish: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Building:
    """The private copy a refresh builds into, and whether it starts empty."""

    path: Path
    from_scratch: bool
    reason: str | None


@contextmanager
def building_copy(
    published: Path,
    inputs: BuildInputs,
    *,
    project_dir: Path = REPO_ROOT,
    log: Callable[[str], None] = say,
) -> Iterator[Building]:
    """Yields a private copy of the published warehouse to build into (an
    empty one when the published warehouse was built from other inputs);
    when the block ends without an error the copy replaces the published
    file and its Parquet marts, otherwise the copy is removed and the
    published warehouse is untouched."""
    published = published.resolve()
    published.parent.mkdir(parents=True, exist_ok=True)
    building = published.with_name(f".{published.name}.building")
    with _one_refresh_at_a_time(published):
        _remove(building)  # left by a refresh that crashed
        record = inputs.record(project_dir)
        reason = None
        if published.exists():
            reason = rebuild_reason(published_record(published), record)
            if reason is None:
                shutil.copyfile(published, building)
                # A file written in place by a plain `dbt build` may have its
                # last changes in a WAL beside it; DuckDB replays it on open.
                if wal_of(published).exists():
                    shutil.copyfile(wal_of(published), wal_of(building))
                log("refreshing the published warehouse (same inputs, new export files only)")
            else:
                log(f"rebuilding from scratch: {reason}")
        parquet = None
        try:
            yield Building(
                building, from_scratch=reason is not None or not published.exists(), reason=reason
            )
            write_record(building, record)
            _seal(building)
            parquet = _write_parquet_marts(building, published)
            os.replace(building, published)
            _point_marts_folder_at(parquet, published)
            _fsync_directory(published.parent)
        except BaseException:
            _remove(building)
            if parquet is not None and not _is_current_marts(parquet, published):
                shutil.rmtree(parquet, ignore_errors=True)
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


def _write_parquet_marts(database: Path, published: Path) -> Path:
    """Every table and view of the schema marts as <mart>.parquet, in a new
    folder beside the published file (made current by _point_marts_folder_at)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    folder = published.parent / f".{published.stem}_marts.{stamp}"
    folder.mkdir()
    # The same memory as the build's (profiles.yml), spilling beside the file.
    resources = {
        "memory_limit": os.environ.get("PIPELINE_DUCKDB_MEMORY_LIMIT") or "1GB",
        "temp_directory": str(folder) + ".tmp",
        "preserve_insertion_order": False,
    }
    with duckdb.connect(str(database), read_only=True, config=resources) as connection:
        marts = connection.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' order by table_name"
        ).fetchall()
        for (mart,) in marts:
            target = str(folder / f"{mart}.parquet").replace("'", "''")
            connection.execute(
                f"copy (select * from marts.\"{mart}\") to '{target}' (format parquet)"
            )
    shutil.rmtree(resources["temp_directory"], ignore_errors=True)
    for path in folder.iterdir():
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
    return folder


def _point_marts_folder_at(folder: Path, published: Path) -> None:
    """marts/ becomes a link to the new folder in one rename. The folder it
    pointed at stays for readers that opened it a moment ago; older ones go."""
    link = marts_folder(published)
    previous = link.resolve() if link.is_symlink() else None
    if link.exists() and not link.is_symlink():
        shutil.rmtree(link)  # not made by this module: nothing else points at it
    staged = published.parent / f".{published.stem}_marts.link"
    staged.unlink(missing_ok=True)
    staged.symlink_to(folder.name, target_is_directory=True)
    os.replace(staged, link)
    for old in published.parent.glob(f".{published.stem}_marts.*"):
        if old.is_dir() and not old.is_symlink() and old not in (folder, previous):
            shutil.rmtree(old, ignore_errors=True)


def _is_current_marts(folder: Path, published: Path) -> bool:
    link = marts_folder(published)
    return link.is_symlink() and link.resolve() == folder.resolve()


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


def build_command(
    inputs: BuildInputs, other_vars: dict, project_dir: Path, extra_args: list[str]
) -> list[str]:
    """The `dbt build` a publish runs: the inputs' vars and the others."""
    run_vars = {**other_vars, **inputs.dbt_vars()}
    command = [DBT_EXECUTABLE, "build", "--project-dir", str(project_dir)]
    if (project_dir / "profiles.yml").exists() and "--profiles-dir" not in extra_args:
        command += ["--profiles-dir", str(project_dir)]
    command += extra_args
    if run_vars:
        # YAML reads 2026-06-30 as a date; dbt gets it back as the text it was.
        command += ["--vars", json.dumps(run_vars, default=str)]
    return command


def parse_inputs(args: argparse.Namespace, parser: argparse.ArgumentParser):
    """The build's inputs (from the options or --vars, which must agree) and its other vars."""
    run_vars = yaml.safe_load(args.vars) if args.vars else {}
    if not isinstance(run_vars, dict):
        parser.error(f"--vars must be a YAML or JSON mapping, got {args.vars!r}")
    other_vars = {name: value for name, value in run_vars.items() if name not in INPUT_VARS}
    merged = {}
    for name in INPUT_VARS:
        option, var = getattr(args, name), run_vars.get(name)
        var = None if var in (None, "") else var
        if option is not None and var is not None and str(option) != str(var):
            parser.error(f"--{name.replace('_', '-')} {option} and the var {name}: {var} disagree")
        value = option if option is not None else var
        if value is not None:
            merged[name] = str(value)
    return BuildInputs(**merged), other_vars


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Other dbt build arguments go after --, e.g. -- --fail-fast",
    )
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=None,
        help="the published DuckDB file (default: PIPELINE_DUCKDB_PATH, "
        "else warehouse/pipeline.duckdb)",
    )
    parser.add_argument("--project-dir", type=Path, default=REPO_ROOT, help="the dbt project")
    parser.add_argument(
        "--raw-path", help="the folder of the team's export files (the dbt var raw_path)"
    )
    parser.add_argument("--raw-format", choices=["csv", "parquet"], help="csv (default) or parquet")
    parser.add_argument(
        "--config-path",
        help="the folder of pipeline_stages.csv, stage_benchmarks.csv and revenue_targets.csv",
    )
    parser.add_argument(
        "--input-timestamp-format", help="strptime format of the exports' timestamps"
    )
    parser.add_argument("--input-encoding", help="utf-8 (default), latin-1 or utf-16")
    parser.add_argument(
        "--business-time-zone",
        help="IANA time zone whose days and months the metrics count (default UTC)",
    )
    parser.add_argument(
        "--vars", help="other dbt vars, as YAML or JSON (e.g. '{as_of_date: 2026-06-30}')"
    )
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="-- then other dbt build arguments")
    args = parser.parse_args(argv)
    extra = args.extra[1:] if args.extra[:1] == ["--"] else args.extra
    if extra and Path(extra[0]).name == "dbt":
        parser.error("publish runs `dbt build` itself: give only its arguments after --")
    if "--vars" in extra:
        parser.error("give dbt vars with --vars, before --")
    inputs, other_vars = parse_inputs(args, parser)
    project_dir = args.project_dir.resolve()
    published = (args.warehouse or published_warehouse()).resolve()
    command = build_command(inputs, other_vars, project_dir, extra)
    try:
        with building_copy(published, inputs, project_dir=project_dir) as building:
            env = {**os.environ, "PIPELINE_DUCKDB_PATH": str(building.path)}
            result = subprocess.run(command, env=env, cwd=project_dir, check=False)
            if result.returncode != 0:
                raise _BuildFailed(result.returncode)
    except _BuildFailed as failure:
        say(f"the build failed (exit {failure.returncode}); {published} is unchanged")
        return failure.returncode
    say(f"{published} now holds this build; its marts as Parquet are in {marts_folder(published)}")
    return 0


class _BuildFailed(Exception):
    def __init__(self, returncode: int):
        super().__init__(returncode)
        self.returncode = returncode


if __name__ == "__main__":
    sys.exit(main())
