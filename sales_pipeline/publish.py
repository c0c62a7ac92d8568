"""Safe publishing: a BI tool never reads a half-built or mixed warehouse.

BI tools read one DuckDB file (PIPELINE_DUCKDB_PATH, default
warehouse/pipeline.duckdb), opened read-only, or the marts as Parquet
files in the folder marts/ beside it. A refresh never writes either. It
builds a private copy (dbt build, all tests), records what it was built
from, checkpoints it, and puts it with its marts as Parquet in a folder
of its own (.pipeline.builds/<time>/). One atomic rename then points
.pipeline.current at that folder; pipeline.duckdb and marts/ are links
through .pipeline.current, so the file and its Parquet marts change
together, in that one rename, or not at all (a refresh killed at any
point leaves the previous build whole, and the next one succeeds):

- a reader that connects gets either the old or the new build, whole;
- a reader that is connected keeps reading the file it opened (the old
  one stays on disk until it disconnects), so long-running queries never
  make a refresh fail, nor a refresh a query;
- a refresh that fails (bad configuration, an unreadable export file, a
  failing test, a crash) leaves the published file and its Parquet marts
  as they were; when dbt failed, its copy is kept beside them
  (.<name>.failed, until a build succeeds) and the publisher says why when
  too many rows were quarantined (sales_pipeline.failed_build).

The copy starts from the published file when the new build reads the same
inputs (export folder, raw format, configuration, timestamp format,
encoding) and every export file it read is unchanged: then the refresh is
incremental: it rebuilds only the leads with new or changed stage
changes. Otherwise it starts from an empty file and
rebuilds from scratch, saying why (sales_pipeline.build_inputs). A lock file
lets one refresh at a time build a given warehouse; another waits for it,
saying so. dbt runs as a child that dies with the publisher, so a killed
publisher leaves no build running.

Command line, as `make build` uses it (runs `dbt build`):
    python -m sales_pipeline.publish --warehouse warehouse/pipeline.duckdb \\
        [--raw-path DIR] [--raw-format csv|parquet] [--config-path DIR] \\
        [--vars '{as_of_date: 2026-06-30}'] [-- other dbt build arguments]
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from sales_pipeline.build_inputs import (
    INPUT_VARS,
    REPO_ROOT,
    BuildInputs,
    WarehouseInUse,
    add_input_options,
    export_file_change,
    export_fingerprints,
    is_export_name,
    published_record,
    rebuild_reason,
    write_record,
)
from sales_pipeline.failed_build import (
    DEFAULT_MAX_REJECTED_SHARE,
    DEFAULT_MEMORY_LIMIT,
    explain_out_of_memory,
    explain_rejections,
    has_data_quality_report,
)
from sales_pipeline.load import LoadError, LoadSettings, load

DEFAULT_WAREHOUSE = REPO_ROOT / "warehouse" / "pipeline.duckdb"
# An export file written less than this many seconds ago may still be
# being written (var export_settle_seconds); a build waits for it at most
# SETTLE_WAIT_LIMIT seconds, then leaves it for the next build.
DEFAULT_SETTLE_SECONDS = "5"
SETTLE_WAIT_LIMIT = 60
# The dbt of this interpreter's environment, whatever PATH says.
DBT_EXECUTABLE = (
    str(Path(sys.executable).with_name("dbt"))
    if Path(sys.executable).with_name("dbt").exists()
    else (shutil.which("dbt") or "dbt")
)


def published_warehouse() -> Path:
    """The file BI tools read: PIPELINE_DUCKDB_PATH, else warehouse/pipeline.duckdb."""
    return absolute(Path(os.environ.get("PIPELINE_DUCKDB_PATH") or DEFAULT_WAREHOUSE))


def absolute(path: Path) -> Path:
    """The path made absolute, its folder resolved but not the file itself:
    the published file is a link to the current build, which changes."""
    path = path.expanduser()
    return path.parent.resolve() / path.name


def marts_folder(published: Path) -> Path:
    """Where the published marts are as Parquet files: marts/ beside the file."""
    return published.parent / "marts"


def builds_folder(published: Path) -> Path:
    """Where each published build has a folder: the file and its Parquet marts."""
    return published.parent / f".{published.stem}.builds"


def current_link(published: Path) -> Path:
    """The one link a publish swaps: it names the current build's folder."""
    return published.parent / f".{published.stem}.current"


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
    # The export files the load landed in the copy (sales_pipeline.load).
    loaded: tuple[dict, ...] = ()


@contextmanager
def building_copy(
    published: Path,
    inputs: BuildInputs,
    *,
    project_dir: Path = REPO_ROOT,
    log: Callable[[str], None] = say,
    settle_seconds: float | None = None,
) -> Iterator[Building]:
    """Yields a private copy of the published warehouse to build into (an
    empty one when the published warehouse was built from other inputs);
    when the block ends without an error the copy replaces the published
    file and its Parquet marts, otherwise the copy is removed and the
    published warehouse is untouched."""
    published = absolute(published)
    published.parent.mkdir(parents=True, exist_ok=True)
    building = published.with_name(f".{published.name}.building")
    with _one_refresh_at_a_time(published, log):
        _remove(building)  # left by a refresh that crashed
        with _unreadable_inputs_stop_with_a_message():
            _wait_for_exports_to_settle(inputs, settle_seconds, log)
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
        folder = None
        try:
            loaded = _load_exports(building, inputs, settle_seconds, log)
            yield Building(
                building,
                from_scratch=reason is not None or not published.exists(),
                reason=reason,
                loaded=tuple(loaded),
            )
            record = _what_the_build_read(building, record, inputs)
            with _disk_space_stops_with_a_message(published):
                write_record(building, record)
                _seal(building)
                folder = _build_folder(building, published)
                previous = _make_current(folder, published)
        except BaseException as error:
            if isinstance(error, BuildFailed) and building.exists():
                _keep_failed(building, published)
            _remove(building)
            if folder is not None and not _is_current(folder, published):
                shutil.rmtree(folder, ignore_errors=True)
            raise
        _remove(failed_copy(published))
        _remove_old_builds(published, previous)


def _load_exports(
    building: Path, inputs: BuildInputs, settle_seconds: float | None, log: Callable[[str], None]
) -> list[dict]:
    """The loader, before dbt: the new export files and the configuration
    files land in the copy (sales_pipeline.load); nothing for the demo seeds.
    Returns the files loaded."""
    settle = export_settle_seconds() if settle_seconds is None else settle_seconds
    settings = LoadSettings.of(inputs, settle)
    if settings is None:
        return []
    loaded = load(building, settings)
    rows = sum(file["row_count"] or 0 for file in loaded)
    if settings.raw_path is None:
        log(f"loaded the configuration files of {settings.config_path}")
    else:
        log(f"loaded {len(loaded)} new export files ({rows:,} rows) from {settings.raw_path}")
    return loaded


def export_settle_seconds(run_vars: dict | None = None) -> float:
    """The var export_settle_seconds (or env PIPELINE_EXPORT_SETTLE_SECONDS, default 5)."""
    value = (run_vars or {}).get("export_settle_seconds")
    if value in (None, ""):
        value = os.environ.get("PIPELINE_EXPORT_SETTLE_SECONDS") or DEFAULT_SETTLE_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise PublishError(f"export_settle_seconds must be a number of seconds, got {value!r}")
    return seconds


def _wait_for_exports_to_settle(
    inputs: BuildInputs, settle_seconds: float | None, log: Callable[[str], None]
) -> None:
    """Waits while an export file was written less than settle_seconds ago
    (an upload or copy still writing it), saying so; after SETTLE_WAIT_LIMIT
    seconds the build goes on and leaves such a file for the next one."""
    folder = Path(inputs.resolved().raw_path or "")
    settle = export_settle_seconds() if settle_seconds is None else settle_seconds
    if not inputs.raw_path or not settle or not folder.is_dir():
        return
    deadline = time.monotonic() + SETTLE_WAIT_LIMIT
    while time.monotonic() < deadline:
        now = time.time()
        ages = {
            path.name: now - path.stat().st_mtime
            for path in folder.iterdir()
            if is_export_name(path.name) and not path.is_symlink() and path.is_file()
        }
        young = {name: age for name, age in ages.items() if 0 <= age < settle}
        if not young:
            return
        name, age = min(young.items(), key=lambda item: item[1])
        log(
            f"waiting for {name} to settle: written {age:.1f} s ago, less than "
            f"export_settle_seconds ({settle:g})"
        )
        time.sleep(settle - age + 0.05)


def _what_the_build_read(building: Path, record: dict, inputs: BuildInputs) -> dict:
    """The record keeps the export files the build read (a file left for
    the next build is new to it then), each as it was before the build; one
    that changed while the build ran stops the publish."""
    if not inputs.raw_path:
        return record
    try:
        with duckdb.connect(str(building), read_only=True) as connection:
            read = {
                name
                for (name,) in connection.execute(
                    "select file_name from staging.stg_crm__export_files"
                ).fetchall()
            }
    except duckdb.Error:
        return record  # the build wrote no file list: nothing to narrow
    now = export_fingerprints(Path(inputs.resolved().raw_path))
    before = record["export_files"]
    for name in sorted(read & set(before)):
        change = export_file_change(name, before[name], now.get(name))
        if change:
            raise PublishError(
                f"{change} while the build read it (still being written?): "
                "build again once it is complete"
            )
    return {**record, "export_files": {n: fp for n, fp in before.items() if n in read}}


def failed_copy(published: Path) -> Path:
    """Where the last failed build's copy is kept, until a build succeeds."""
    return published.with_name(f".{published.name}.failed")


def _keep_failed(building: Path, published: Path) -> None:
    _remove(failed_copy(published))
    os.replace(building, failed_copy(published))
    if wal_of(building).exists():
        os.replace(wal_of(building), wal_of(failed_copy(published)))


@contextmanager
def _unreadable_inputs_stop_with_a_message() -> Iterator[None]:
    """An export folder or file the publisher cannot read: one line, no traceback."""
    try:
        yield
    except OSError as error:
        raise PublishError(
            f"cannot read the build's inputs: {error.filename}: {error.strerror or error}"
        ) from None


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


def _build_folder(building: Path, published: Path) -> Path:
    """A new folder for this build: the sealed file moved in, and its marts
    as Parquet beside it; nothing reads it until _make_current."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    folder = builds_folder(published) / stamp
    folder.mkdir(parents=True)
    os.replace(building, folder / published.name)
    _write_parquet_marts(folder / published.name, folder / "marts")
    _fsync_directory(folder)
    return folder


def _make_current(folder: Path, published: Path) -> Path | None:
    """The publish itself: one rename points .<name>.current at the new
    build's folder. The file and marts/ are links through it, made once
    (a file or folder an earlier version published is replaced by its link).
    Returns the folder of the build it replaced."""
    current = current_link(published)
    previous = current.resolve() if current.is_symlink() else None
    staged = current.with_name(current.name + ".new")
    staged.unlink(missing_ok=True)
    staged.symlink_to(folder.relative_to(published.parent), target_is_directory=True)
    os.replace(staged, current)
    for link, target in (
        (published, Path(current.name) / published.name),
        (marts_folder(published), Path(current.name) / "marts"),
    ):
        if link.is_symlink() and Path(os.readlink(link)) == target:
            continue
        staged = link.with_name(f".{link.name}.link")
        staged.unlink(missing_ok=True)
        staged.symlink_to(target)
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)  # marts/ of an early version: no link, nothing else points at it
        os.replace(staged, link)
    _fsync_directory(published.parent)
    return previous


def _is_current(folder: Path, published: Path) -> bool:
    current = current_link(published)
    return current.is_symlink() and current.resolve() == folder.resolve()


def _remove_old_builds(published: Path, previous: Path | None) -> None:
    """Builds before the previous one go; the previous one stays whole, its
    file and its Parquet marts, for readers that resolved the link a moment
    before the switch (DuckDB resolves the path, then opens the file: the
    file must still be there). Folders of refreshes killed before they
    were published go too, and what earlier versions left."""
    current = current_link(published).resolve()
    for build in sorted(builds_folder(published).iterdir()):
        if build.resolve() == current:
            continue
        if previous is None or build.resolve() != previous:
            shutil.rmtree(build, ignore_errors=True)
    for old in published.parent.glob(f".{published.stem}_marts.*"):
        if old.is_symlink() or old.is_file():
            old.unlink(missing_ok=True)
        else:
            shutil.rmtree(old, ignore_errors=True)


def _write_parquet_marts(database: Path, folder: Path) -> None:
    """Every table and view of the schema marts as <mart>.parquet in folder."""
    folder.mkdir()
    # The same memory as the build's (profiles.yml), spilling beside the file.
    resources = {
        "memory_limit": os.environ.get("PIPELINE_DUCKDB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT,
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
    _fsync_directory(folder)


@contextmanager
def _one_refresh_at_a_time(published: Path, log: Callable[[str], None]) -> Iterator[None]:
    """The lock file holds the process id of the refresh that has it; one
    that has to wait says for whom."""
    lock_path = published.with_name(f".{published.name}.lock")
    with lock_path.open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            log(
                f"waiting for another build of {published} to finish (process {holder}; "
                f"lock file {lock_path})"
            )
            fcntl.flock(lock, fcntl.LOCK_EX)
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def _disk_space_stops_with_a_message(published: Path) -> Iterator[None]:
    """A full disk while publishing: one line saying where and how much."""
    try:
        yield
    except (OSError, duckdb.Error) as error:
        if not (getattr(error, "errno", None) == errno.ENOSPC or "No space left" in str(error)):
            raise
        free = shutil.disk_usage(published.parent).free
        raise PublishError(
            f"the disk of {published.parent} is full ({free / 1e6:,.0f} MB free): publishing "
            f"needs about {_space_needed(published) / 1e6:,.0f} MB there (the new file and its "
            "Parquet marts, beside the published build); free space and build again"
        ) from None


def _space_needed(published: Path) -> int:
    building = published.with_name(f".{published.name}.building")
    sizes = [path.stat().st_size for path in (published, building) if path.exists()]
    return 2 * max(sizes, default=0)


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


def explain_failure(published: Path, inputs: BuildInputs, run_vars: dict) -> None:
    """What a team needs after a failed build: why, when it stopped on the
    rejected-share limit, and where the failed build is to look at."""
    failed = failed_copy(published)
    if not failed.exists():
        return
    try:
        max_share = float(run_vars.get("max_rejected_share", DEFAULT_MAX_REJECTED_SHARE))
    except (TypeError, ValueError):
        max_share = DEFAULT_MAX_REJECTED_SHARE
    resolved = inputs.resolved()
    for line in explain_rejections(
        failed, resolved.raw_path, max_share, resolved.input_timestamp_format
    ):
        say(line)
    say(
        f"the failed build is kept in {failed} until the next successful build"
        + (
            " (marts.rpt_data_quality, marts.rejected_leads, marts.rejected_lead_transitions; "
            "open it read-only)"
            if has_data_quality_report(failed)
            else ""
        )
    )


def run_child(command: list[str], **options) -> int:
    """Runs dbt as a child that the kernel kills when the publisher dies
    (even by kill -9), so no orphaned build holds the copy's lock."""
    child = subprocess.Popen(command, preexec_fn=_die_with_parent, **options)
    try:
        return child.wait()
    finally:
        if child.poll() is None:  # the publisher is stopping (SIGTERM, Ctrl-C)
            child.kill()
            child.wait()


def _die_with_parent() -> None:
    """In the child, before dbt starts: SIGKILL when the parent dies (Linux prctl)."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _terminated(signum, frame) -> None:
    """SIGTERM unwinds like Ctrl-C: dbt is stopped and the copy removed."""
    raise KeyboardInterrupt(f"stopped by signal {int(signum)}")


def parse_vars(text: str) -> object:
    """--vars as YAML, or one line naming --vars and where it stops parsing (exit 2)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "not YAML"
        say(
            f"error: --vars is not a YAML or JSON mapping ({problem}{where}): {text!r}; "
            "write it like '{as_of_date: 2026-06-30, input_timestamp_format: \"%d/%m/%Y\"}'"
        )
        raise SystemExit(2) from None


def parse_inputs(args: argparse.Namespace, parser: argparse.ArgumentParser):
    """The build's inputs (from the options or --vars, which must agree) and its other vars."""
    run_vars = parse_vars(args.vars) if args.vars else {}
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
    add_input_options(parser)
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
    published = absolute(args.warehouse) if args.warehouse else published_warehouse()
    command = build_command(inputs, other_vars, project_dir, extra)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        settle_seconds = export_settle_seconds(other_vars)
        with building_copy(
            published, inputs, project_dir=project_dir, settle_seconds=settle_seconds
        ) as building:
            env = {**os.environ, "PIPELINE_DUCKDB_PATH": str(building.path)}
            returncode = run_child(command, env=env, cwd=project_dir)
            if returncode != 0:
                raise BuildFailed(returncode)
    except BuildFailed as failure:
        for line in explain_out_of_memory(project_dir):
            say(line)
        explain_failure(published, inputs, other_vars)
        say(f"the build failed (exit {failure.returncode}); {published} is unchanged")
        return failure.returncode
    except (PublishError, WarehouseInUse) as error:
        say(f"error: {error}; {published} is unchanged")
        return 1
    except LoadError as error:
        say(f"{error}\n{published} is unchanged")
        return 1
    except KeyboardInterrupt as stop:
        say(f"{str(stop) or 'stopped'}; {published} is unchanged")
        return 128 + (signal.SIGTERM if stop.args else signal.SIGINT)
    say(f"{published} now holds this build; its marts as Parquet are in {marts_folder(published)}")
    return 0


class PublishError(Exception):
    """A problem the publisher explains in one line (the published build is unchanged)."""


class BuildFailed(Exception):
    """dbt stopped: the copy it built is kept (failed_copy) for a look."""

    def __init__(self, returncode: int):
        super().__init__(returncode)
        self.returncode = returncode


if __name__ == "__main__":
    sys.exit(main())
