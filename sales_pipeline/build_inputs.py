"""What a build reads, and whether the published warehouse was built from
the same.

A refresh is incremental only when it may be: the published warehouse
records the inputs it was built from (the export folder, the raw format,
the configuration files' contents, the timestamp format, the encoding, the
business time zone, the storage version, the layout of its refresh state)
and the export files it had read, each by size, modification time and
checksum. A
refresh with other inputs, or after a loaded export file changed or
disappeared, rebuilds from scratch by itself, so the marts never mix two
sets of inputs and never go stale (sales_pipeline.publish).
New export files are what an incremental refresh is for.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import duckdb

from sales_pipeline.export_files import CONFIG_FILES, EXPORT_TABLES, sha256_of

REPO_ROOT = Path(__file__).resolve().parent.parent
RECORD_TABLE = "pipeline_meta.build_inputs"
# The layout of what a refresh builds on: the stored columns and the
# materializations of the models that refresh by lead. Raise it when they
# change, so the publisher rebuilds a warehouse an earlier version built
# from scratch instead of failing its first refresh. 2: int_lead_outcomes
# refreshes by lead and stores as_of_at and loaded_at. 3: several pipelines
# (pipeline_id in int_lead_outcomes and fct_stage_conversion_daily).
STATE_LAYOUT = 3
# The recorded settings, most telling first (a reason names the first two).
SETTINGS_ORDER = (
    "state_layout",
    "raw_path",
    "config_path",
    "configuration",
    "raw_format",
    "input_timestamp_format",
    "input_encoding",
    "business_time_zone",
    "storage_version",
)
DEFAULT_STORAGE_VERSION = "v1.0.0"


def build_input(default: str | None, help: str, **argparse_options) -> str | None:
    """A field of BuildInputs: its default and what it is, for the
    publisher's options and Dagster's resource alike."""
    return field(default=default, metadata={"help": help, **argparse_options})


@dataclass(frozen=True)
class BuildInputs:
    """The inputs of a build: the dbt vars that say what is read, and the
    business time zone, which says what a day is (so what the incremental
    state and the history's days mean). Every other var is a setting of
    the metrics (as_of_date, thresholds), which every build recomputes.
    Empty paths mean the demo seeds. The one list of them: the publisher's
    options, the PIPELINE_* env vars and Dagster's PipelineInputs are made
    from these fields."""

    raw_path: str | None = build_input(
        None, "the folder of the team's export files (empty: the demo seeds)"
    )
    raw_format: str = build_input("csv", "csv (default) or parquet", choices=["csv", "parquet"])
    config_path: str | None = build_input(
        None,
        "the folder of pipeline_stages.csv, stage_benchmarks.csv and revenue_targets.csv "
        "(empty: seeds/config; through a CRM adapter the CRM's stages, no benchmarks "
        "and no targets)",
    )
    input_timestamp_format: str | None = build_input(
        None, "strptime format of the exports' timestamps (empty: ISO-8601)"
    )
    input_encoding: str | None = build_input(None, "utf-8 (default), latin-1 or utf-16")
    business_time_zone: str | None = build_input(
        None, "IANA time zone whose days and months the metrics count (default UTC)"
    )

    @classmethod
    def from_env(cls) -> BuildInputs:
        """The inputs a deployment sets through PIPELINE_* env vars (input_env_var)."""
        return cls(
            **{
                item.name: os.environ.get(input_env_var(item.name)) or item.default
                for item in fields(cls)
            }
        )

    def resolved(self) -> BuildInputs:
        """The same inputs with absolute folders (dbt runs in the project folder)."""
        return BuildInputs(
            raw_path=str(Path(self.raw_path).expanduser().resolve()) if self.raw_path else None,
            raw_format=(self.raw_format or "csv").strip().lower(),
            config_path=str(Path(self.config_path).expanduser().resolve())
            if self.config_path
            else None,
            input_timestamp_format=self.input_timestamp_format or None,
            # UTF-8 is the default: naming it changes nothing.
            input_encoding=None
            if (self.input_encoding or "").strip().lower() in ("", "utf-8", "utf8")
            else self.input_encoding.strip().lower(),
            # UTC is the default: naming it changes nothing.
            business_time_zone=None
            if (self.business_time_zone or "").strip() in ("", "UTC")
            else self.business_time_zone.strip(),
        )

    def dbt_vars(self) -> dict[str, str]:
        """The dbt vars that give dbt these inputs (only those set)."""
        inputs = self.resolved()
        run_vars = {name: value for name, value in asdict(inputs).items() if value}
        if not inputs.raw_path:
            run_vars.pop("raw_format", None)
        return run_vars

    def record(self, project_dir: Path = REPO_ROOT) -> dict:
        """What a build from these inputs is made of, as the published
        warehouse keeps it: the settings and the export files read."""
        inputs = self.resolved()
        config_folder = Path(inputs.config_path or project_dir / "seeds" / "config")
        settings = {
            **inputs.dbt_vars(),
            "configuration": {name: file_digest(config_folder / name) for name in CONFIG_FILES},
            "storage_version": storage_version(),
            "state_layout": STATE_LAYOUT,
        }
        files = export_fingerprints(Path(inputs.raw_path)) if inputs.raw_path else {}
        return {"settings": settings, "export_files": files}


# The dbt var names of the inputs, in order.
INPUT_VARS = tuple(item.name for item in fields(BuildInputs))


def input_env_var(name: str) -> str:
    """The env var a deployment sets an input with: PIPELINE_RAW_PATH, ..."""
    return f"PIPELINE_{name.upper()}"


def add_input_options(parser) -> None:
    """One --option per input (--raw-path, ...), on an argparse parser."""
    for item in fields(BuildInputs):
        parser.add_argument(f"--{item.name.replace('_', '-')}", **item.metadata)


def storage_version() -> str:
    """The DuckDB storage version new warehouse files are written in (profiles.yml)."""
    return os.environ.get("PIPELINE_DUCKDB_STORAGE_VERSION") or DEFAULT_STORAGE_VERSION


def file_digest(path: Path) -> str | None:
    if not path.is_file():
        return None
    return sha256_of(path)


def is_export_name(name: str) -> bool:
    return name.lower().startswith(EXPORT_TABLES)


def export_fingerprints(folder: Path) -> dict[str, list]:
    """Size, modification time (ns) and SHA-256 of every export file in the
    folder: a file rewritten in place with its size and time restored still
    differs (its checksum)."""
    if not folder.is_dir():
        return {}
    fingerprints = {}
    for path in sorted(folder.iterdir()):
        # A link is not followed (the build refuses it), a folder is not read.
        if not is_export_name(path.name):
            continue
        if path.is_symlink():
            stat = path.lstat()
            fingerprints[path.name] = [stat.st_size, stat.st_mtime_ns, None]
        elif path.is_file():
            stat = path.stat()
            fingerprints[path.name] = [stat.st_size, stat.st_mtime_ns, sha256_of(path)]
    return fingerprints


def export_file_change(name: str, read: list, now: list | None) -> str | None:
    """How an export file differs from when a build read it, or None.
    A record an earlier version wrote has no checksum: size and time only."""
    if now is None:
        return f"export file {name} was removed"
    if now[: len(read)] == read:
        return None
    if now[0] != read[0]:
        return f"export file {name} changed ({read[0]:,} bytes when read, {now[0]:,} now)"
    if now[1] != read[1]:
        return f"export file {name} changed (modified after it was read, same size)"
    return f"export file {name} changed (same size and time, other content: its checksum differs)"


class WarehouseInUse(Exception):
    """The published file is open for writing by another process."""


def published_record(database: Path) -> dict | None:
    """The inputs record of a warehouse file, or None when it has none. A
    file another process holds open for writing cannot be read: that stops
    the refresh (WarehouseInUse) rather than make it rebuild from scratch."""
    try:
        with duckdb.connect(str(database), read_only=True) as connection:
            row = connection.execute(f"select inputs_json from {RECORD_TABLE}").fetchone()
    except duckdb.CatalogException:
        return None
    except duckdb.Error as error:
        if "lock" in str(error).lower():
            holder = re.search(r"PID (\d+)", str(error))
            raise WarehouseInUse(
                f"{database} is open for writing by another process"
                + (f" (process {holder.group(1)})" if holder else "")
                + ": close it (a DuckDB client, a plain dbt build) and build again"
            ) from None
        return None
    return json.loads(row[0]) if row else None


def write_record(database: Path, record: dict) -> None:
    with duckdb.connect(str(database)) as connection:
        connection.execute("create schema if not exists pipeline_meta")
        connection.execute(
            f"create or replace table {RECORD_TABLE} as "
            "select cast(? as varchar) as inputs_json, current_timestamp as recorded_at",
            [json.dumps(record, sort_keys=True)],
        )


def rebuild_reason(published: dict | None, now: dict) -> str | None:
    """Why a refresh must start from scratch, or None when it may build on
    the published warehouse (same settings; every file it read unchanged)."""
    if published is None:
        return "the published warehouse records no inputs (a plain dbt build, or an older version)"
    before, after = published["settings"], now["settings"]
    changed = [name for name in SETTINGS_ORDER if before.get(name) != after.get(name)]
    if changed:
        first = "; ".join(
            describe_setting(name, before.get(name), after.get(name)) for name in changed[:2]
        )
        return first + (f" (and {', '.join(changed[2:])})" if changed[2:] else "")
    for name, read in sorted(published["export_files"].items()):
        change = export_file_change(name, read, now["export_files"].get(name))
        if change:
            return change
    return None


def describe_setting(name: str, before: object, after: object) -> str:
    if name == "state_layout":
        return (
            "an earlier version of the project built it, which stores the refresh state "
            f"differently (layout {shown(before)} -> {shown(after)})"
        )
    if name == "configuration":
        files = sorted(f for f in CONFIG_FILES if (before or {}).get(f) != (after or {}).get(f))
        return f"the configuration changed ({', '.join(files)})"
    return f"{name} changed ({shown(before)} -> {shown(after)})"


def shown(value: object) -> str:
    return "unset" if value in (None, "") else str(value)
