"""Loading, the step before dbt: the team's export files (raw_path) and
configuration files (config_path), each inspected once and landed as raw
tables in the warehouse, with a load ledger.

What it writes, in the DuckDB warehouse file or (--target postgres) the
PostgreSQL database of profiles.yml's postgres target:

- crm_exports.raw_leads and crm_exports.raw_lead_transitions: every row of
  every export file read, each column as text as the file has it, and
  source_file, the file it came from. Files are append-only: a file is
  loaded once, when it first appears.
- crm_exports.load_ledger: one row per file loaded (file, path, format,
  size, modification time, SHA-256 checksum, rows, the read options it was
  read with, loaded_at).
- crm_exports.export_folder: the folder as it was at the last load, one row
  per entry, with what the warehouse made of it (export, refused, ignored,
  configuration, waiting) and why.
- config_files.pipeline_stages, stage_benchmarks and revenue_targets: the
  configuration files as text, replaced at every load.

dbt reads them as plain sources (models/staging/crm/_crm__sources.yml).
Nothing is landed when any file has a problem: the load stops with one line
per problem (LoadError), in the words the inspection gives
(sales_pipeline.export_files). A loaded file that changed or disappeared
stops it too (ExportsChanged): the publisher then rebuilds from scratch.

    python -m sales_pipeline.load --warehouse target/w.duckdb --raw-path /data/exports
    python -m sales_pipeline.load --target postgres --raw-path /data/exports

The files are read by DuckDB either way (the reader the inspection proved
them with); on PostgreSQL the rows then stream in with COPY.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.csv

from sales_pipeline.build_inputs import (
    INPUT_VARS,
    BuildInputs,
    add_input_options,
    storage_version,
)
from sales_pipeline.export_files import (
    ENCODINGS,
    RAW_COLUMNS,
    inspect_file,
    list_folder,
    quote_identifier,
    sha256_of,
    stat_of,
)

SCHEMA = "crm_exports"
CONFIG_SCHEMA = "config_files"
# The columns each configuration file must have.
CONFIG_COLUMNS = {
    "pipeline_stages": [
        "stage_key",
        "stage_name",
        "stage_order",
        "stage_type",
        "default_expected_days",
    ],
    "stage_benchmarks": ["stage_key", "benchmark_conversion_rate", "benchmark_source"],
    "revenue_targets": ["target_month", "revenue_target_usd", "avg_deal_size_usd"],
    "exchange_rates": ["currency", "rate_to_reporting", "valid_from"],
}
# Columns a configuration file may leave out, landed empty: the pipeline a
# stage or a target belongs to (several pipelines, docs/metrics.md section 1).
OPTIONAL_CONFIG_COLUMNS = {
    "pipeline_stages": ["pipeline_id", "pipeline_name"],
    "revenue_targets": ["pipeline_id"],
}
# Configuration files config_path may leave out: landed as empty tables.
# Without exchange rates only the reporting currency's amounts count; a
# CRM adapter (var crm) reads the stages from the CRM, and an empty
# pipeline_stages stops a generic build (stg_config__pipeline_stages).
OPTIONAL_CONFIG = ("pipeline_stages", "exchange_rates")
LEDGER_COLUMNS = (
    "file_name varchar, file_path varchar, raw_table varchar, file_format varchar, "
    "read_options varchar, column_names varchar, row_count bigint, file_size_bytes bigint, "
    "file_modified_at timestamp, checksum_sha256 varchar, loaded_at timestamp"
)
FOLDER_FIELDS = (
    "file_name",
    "file_path",
    "raw_table",
    "file_format",
    "status",
    "reason",
    "file_size_bytes",
    "file_modified_at",
)
FOLDER_COLUMNS = (
    "file_name varchar, file_path varchar, raw_table varchar, file_format varchar, "
    "status varchar, reason varchar, file_size_bytes bigint, file_modified_at timestamp"
)
ENCODING_ALIASES = {
    "utf8": "utf-8",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
    "utf16": "utf-16",
}


class LoadError(Exception):
    """Files that cannot be loaded: the message names each, one per line."""


class ExportsChanged(LoadError):
    """A file the warehouse loaded changed or disappeared."""


@dataclass(frozen=True)
class LoadSettings:
    # None: the raw tables are not files (a loader's or a CRM's tables, var
    # crm_schema); only config_path's configuration lands.
    raw_path: Path | None
    raw_format: str = "csv"
    config_path: Path | None = None
    input_encoding: str = "utf-8"
    settle_seconds: float = 5.0

    @classmethod
    def of(cls, inputs: BuildInputs, settle_seconds: float) -> LoadSettings | None:
        """The load of a build's inputs; None when everything is read from
        seeds or tables (neither raw_path nor config_path)."""
        inputs = inputs.resolved()
        if not inputs.raw_path and not inputs.config_path:
            return None
        encoding = (inputs.input_encoding or "utf-8").strip().lower()
        encoding = ENCODING_ALIASES.get(encoding, encoding)
        if encoding not in ENCODINGS:
            raise LoadError(
                "var input_encoding must be utf-8, latin-1 or utf-16, "
                f"got '{inputs.input_encoding}'"
            )
        return cls(
            raw_path=Path(inputs.raw_path) if inputs.raw_path else None,
            raw_format=inputs.raw_format or "csv",
            config_path=Path(inputs.config_path) if inputs.config_path else None,
            input_encoding=encoding,
            settle_seconds=settle_seconds,
        )


def load(database: Path, settings: LoadSettings, *, full_refresh: bool = False) -> list[dict]:
    """Lands the new export files (and the configuration) in the DuckDB file;
    returns the files loaded. Raises LoadError, landing nothing."""
    # A new file is written in the storage format dbt writes it in (profiles.yml).
    config = {"storage_compatibility_version": storage_version()}
    with duckdb.connect(str(database), config=config) as connection:
        return load_into(DuckDBDestination(connection), settings, full_refresh=full_refresh)


def load_into_postgres(settings: LoadSettings, *, full_refresh: bool = False) -> list[dict]:
    """The same load into the database of profiles.yml's postgres target
    (the PIPELINE_POSTGRES_* variables)."""
    from sales_pipeline.engines import postgres_connection

    connection = postgres_connection(os.environ.get("PIPELINE_POSTGRES_DBNAME", "pipeline"))
    try:
        return load_into(PostgresDestination(connection), settings, full_refresh=full_refresh)
    finally:
        connection.close()


def load_into(destination, settings: LoadSettings, *, full_refresh: bool = False) -> list[dict]:
    """The load into a destination (DuckDBDestination, PostgresDestination)."""
    _create_tables(destination, full_refresh)
    if settings.raw_path is None:
        # The raw tables are tables: the configuration files alone land.
        config_plans = inspect_configuration(settings)
        with destination.transaction():
            for name, (path, plan) in config_plans.items():
                _land_config(destination, name, path, plan)
        return []
    raw_path = str(settings.raw_path)
    config_path = str(settings.config_path) if settings.config_path else None
    entries = list_folder(raw_path, settings.raw_format, config_path, settings.settle_seconds)
    ledger = {
        row[0]: row
        for row in destination.fetch(
            "select file_name, file_size_bytes, file_modified_at, loaded_at "
            f"from {SCHEMA}.load_ledger"
        )
    }
    changed = changed_files(ledger, entries)
    if changed:
        raise ExportsChanged(
            f"Export files changed since the warehouse loaded them (in {raw_path}):\n  - "
            + "\n  - ".join(changed)
            + "\nExport files are append-only: a refresh reads new files, never a changed one "
            "again. Rebuild from scratch: `make build RAW_PATH=...` (or python -m "
            "sales_pipeline.publish) does it by itself; by hand, load again with python -m "
            "sales_pipeline.load --full-refresh, and a plain dbt build needs --full-refresh."
        )
    problems = [
        entry["reason"] if entry["raw_table"] is None else f"{entry['file_name']} {entry['reason']}"
        for entry in entries
        if entry["status"] == "refused"
    ]
    new_files = []
    for entry in entries:
        if entry["status"] != "export" or entry["file_name"] in ledger:
            continue
        plan = inspect_settled(entry, settings.input_encoding)
        if plan is None:
            print(
                f"Export file {entry['file_name']} changed while it was inspected "
                "(still being written?): left for the next build",
                file=sys.stderr,
            )
            continue
        problems.extend(f"{entry['file_name']} {problem}" for problem in plan["problems"])
        new_files.append({**entry, **plan})
    if not ledger:
        problems.extend(missing_exports(entries, new_files, settings.raw_format))
    if problems:
        raise LoadError(
            f"Export file error in {raw_path}:\n  - "
            + "\n  - ".join(problems)
            + "\nFix or remove these files and build again; no model was built from them."
        )
    config_plans = inspect_configuration(settings)
    with destination.transaction():
        for file in new_files:
            _land_file(destination, file)
        destination.execute(f"delete from {SCHEMA}.export_folder")
        destination.insert(
            f"{SCHEMA}.export_folder",
            [[e[column] for column in FOLDER_FIELDS] for e in entries],
        )
        for name, (path, plan) in config_plans.items():
            _land_config(destination, name, path, plan)
    return new_files


def changed_files(ledger: dict, entries: list[dict]) -> list[str]:
    """The loaded files no longer as they were (size or modification time),
    or no longer there, one message each."""
    now = {e["file_name"]: e for e in entries if e["status"] in ("export", "waiting")}
    messages = []
    for name in sorted(ledger):
        _, size, modified, loaded_at = ledger[name]
        when = loaded_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        entry = now.get(name)
        if entry is None:
            messages.append(f"{name} was removed (loaded {when})")
        elif entry["file_size_bytes"] != size:
            messages.append(
                f"{name} changed: {entry['file_size_bytes']:,} bytes now, {size:,} when loaded "
                f"({when})"
            )
        elif entry["file_modified_at"] != modified:
            messages.append(f"{name} changed: modified after it was loaded ({when}), same size")
    return messages


def inspect_settled(entry: dict, encoding: str) -> dict | None:
    """The file's inspection, or None when it changed while inspected (still
    being written: what was inspected is not what would be read)."""
    path = entry["file_path"]
    before = stat_of(path)
    try:
        plan = inspect_file(path, entry["file_format"], RAW_COLUMNS[entry["raw_table"]], encoding)
    except Exception as error:  # a message, never a traceback
        plan = {"problems": [f"could not be read: {str(error).strip().splitlines()[0]}"]}
    if before is not None and stat_of(path) != before:
        return None
    return {"read_options": None, "columns": None, "row_count": None, **plan}


def missing_exports(entries: list[dict], new_files: list[dict], raw_format: str) -> list[str]:
    """A first load needs a file of each raw table (a header-only file is an empty export)."""
    problems = []
    for raw_table in RAW_COLUMNS:
        if any(file["raw_table"] == raw_table for file in new_files):
            continue
        waiting = [
            e["file_name"]
            for e in entries
            if e["status"] == "waiting" and e["raw_table"] == raw_table
        ]
        extension = "parquet" if raw_format == "parquet" else "csv"
        problems.append(
            f"no {raw_table} export: raw_path must hold at least one file named "
            f"{raw_table}*.{extension} (a file with the header only is an empty export)"
            + (
                f"; {', '.join(waiting)} was written a moment ago: build again once it is complete"
                if waiting
                else ""
            )
        )
    return problems


def inspect_configuration(settings: LoadSettings) -> dict[str, tuple[Path, dict]]:
    """Each configuration file of config_path, inspected like an export file."""
    if settings.config_path is None:
        return {}
    plans = {}
    for name, columns in CONFIG_COLUMNS.items():
        path = settings.config_path / f"{name}.csv"
        if name in OPTIONAL_CONFIG and not path.exists():
            plans[name] = (path, {"row_count": 0})
            continue
        plan = inspect_file(
            str(path),
            "csv",
            columns,
            settings.input_encoding,
            tuple(OPTIONAL_CONFIG_COLUMNS.get(name, ())),
        )
        if plan["problems"]:
            raise LoadError(
                f"Configuration file error: {path} "
                + f"\n  - {path} ".join(plan["problems"])
                + "\nFix the file (config_path) and build again; no model was built from it."
            )
        plans[name] = (path, plan)
    return plans


class DuckDBDestination:
    """The DuckDB warehouse file: the files are read straight into it."""

    def __init__(self, connection: duckdb.DuckDBPyConnection):
        self.connection = connection

    def execute(self, sql: str) -> None:
        self.connection.execute(sql)

    def fetch(self, sql: str) -> list[tuple]:
        return self.connection.execute(sql).fetchall()

    def insert(self, table: str, rows: list[list]) -> None:
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            self.connection.executemany(f"insert into {table} values ({marks})", rows)

    def create_table(self, table: str, columns: str, replace: bool) -> None:
        create = "create or replace table" if replace else "create table if not exists"
        self.connection.execute(f"{create} {table} ({columns})")

    def insert_read(self, table: str, columns: list[str], select: str, params: dict) -> None:
        """Inserts the rows of a select over a file (read_csv, read_parquet)."""
        self.connection.execute(f"insert into {table} ({', '.join(columns)}) {select}", params)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.connection.execute("begin transaction")
        try:
            yield
            self.connection.execute("commit")
        except BaseException:
            self.connection.execute("rollback")
            raise


class PostgresDestination:
    """A PostgreSQL database: DuckDB reads each file (in memory, with the
    options the inspection proved), and its rows stream in with COPY, in
    batches, as CSV: quoted text, and an unquoted empty field for null."""

    BATCH_ROWS = 200_000

    def __init__(self, connection):
        self.connection = connection
        self.reader = duckdb.connect()

    def execute(self, sql: str) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(sql)

    def fetch(self, sql: str) -> list[tuple]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    def insert(self, table: str, rows: list[list]) -> None:
        if rows:
            marks = ", ".join(["%s"] * len(rows[0]))
            with self.connection.cursor() as cursor:
                cursor.executemany(f"insert into {table} values ({marks})", rows)

    def create_table(self, table: str, columns: str, replace: bool) -> None:
        if replace:
            self.execute(f"drop table if exists {table}")
        self.execute(f"create table if not exists {table} ({columns})")

    def insert_read(self, table: str, columns: list[str], select: str, params: dict) -> None:
        batches = self.reader.sql(select, params=params).to_arrow_reader(self.BATCH_ROWS)
        options = pyarrow.csv.WriteOptions(include_header=False, quoting_style="all_valid")
        copy = f"copy {table} ({', '.join(columns)}) from stdin with (format csv)"
        with self.connection.cursor() as cursor:
            for batch in batches:
                buffer = io.BytesIO()
                pyarrow.csv.write_csv(batch, buffer, options)
                buffer.seek(0)
                cursor.copy_expert(copy, buffer)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # psycopg2 opened the transaction with the first statement: the
        # tables created above and every row land together, or nothing does.
        try:
            yield
            self.connection.commit()
        except BaseException:
            self.connection.rollback()
            raise


def _create_tables(destination, full_refresh: bool) -> None:
    destination.execute(f"create schema if not exists {SCHEMA}")
    destination.execute(f"create schema if not exists {CONFIG_SCHEMA}")
    for raw_table, columns in RAW_COLUMNS.items():
        typed = ", ".join(f"{column} varchar" for column in [*columns, "source_file"])
        destination.create_table(f"{SCHEMA}.{raw_table}", typed, replace=full_refresh)
    destination.create_table(f"{SCHEMA}.load_ledger", LEDGER_COLUMNS, replace=full_refresh)
    destination.create_table(f"{SCHEMA}.export_folder", FOLDER_COLUMNS, replace=True)


def _land_file(destination, file: dict) -> None:
    raw_table = file["raw_table"]
    columns = RAW_COLUMNS[raw_table]
    # The file's path and its own column names are anyone's text: bound as
    # parameters or quoted (never pasted into the SQL).
    if file["row_count"]:
        if file["file_format"] == "parquet":
            selected = ", ".join(
                f"cast({quote_identifier(name)} as varchar)" for name in file["columns"]
            )
            reader = "read_parquet($path)"
        else:
            selected = ", ".join(columns)
            reader = f"read_csv($path, {file['read_options']})"
        destination.insert_read(
            f"{SCHEMA}.{raw_table}",
            [*columns, "source_file"],
            f"select {selected}, $name from {reader}",
            {"path": file["file_path"], "name": file["file_name"]},
        )
    destination.insert(
        f"{SCHEMA}.load_ledger",
        [
            [
                file["file_name"],
                file["file_path"],
                raw_table,
                file["file_format"],
                file["read_options"],
                json.dumps(file["columns"]) if file["columns"] is not None else None,
                file["row_count"],
                file["file_size_bytes"],
                file["file_modified_at"],
                sha256_of(Path(file["file_path"])),
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
            ]
        ],
    )


def _land_config(destination, name: str, path: Path, plan: dict) -> None:
    optional = OPTIONAL_CONFIG_COLUMNS.get(name, [])
    columns = CONFIG_COLUMNS[name] + optional
    typed = ", ".join(f"{column} varchar" for column in columns)
    destination.create_table(f"{CONFIG_SCHEMA}.{name}", typed, replace=True)
    if plan.get("row_count"):
        in_file = {column.strip().lower() for column in plan.get("columns") or []}
        read = [
            column if column in in_file or column not in optional else f"null as {column}"
            for column in columns
        ]
        destination.insert_read(
            f"{CONFIG_SCHEMA}.{name}",
            columns,
            f"select {', '.join(read)} from read_csv($path, {plan['read_options']})",
            {"path": str(path)},
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--target",
        choices=("duckdb", "postgres"),
        default=os.environ.get("DBT_TARGET") or "duckdb",
        help="where to land the files, as profiles.yml's targets (env DBT_TARGET; default duckdb): "
        "postgres reads the PIPELINE_POSTGRES_* variables",
    )
    parser.add_argument("--warehouse", type=Path, help="the DuckDB file (target duckdb)")
    add_input_options(parser)
    parser.add_argument(
        "--settle-seconds",
        type=float,
        default=5.0,
        help="leave files written less than this many seconds ago for the next load",
    )
    parser.add_argument(
        "--full-refresh", action="store_true", help="empty the raw tables and load every file again"
    )
    args = parser.parse_args(argv)
    given = {name: getattr(args, name) for name in INPUT_VARS}
    inputs = BuildInputs(**{name: value for name, value in given.items() if value})
    try:
        settings = LoadSettings.of(inputs, args.settle_seconds)
        if settings is None:
            parser.error(
                "--raw-path or --config-path is required: the folder of the export files, "
                "or of the configuration files"
            )
        if args.target == "postgres":
            loaded = load_into_postgres(settings, full_refresh=args.full_refresh)
            where = f"PostgreSQL database {os.environ.get('PIPELINE_POSTGRES_DBNAME', 'pipeline')}"
        elif args.warehouse is None:
            parser.error("--warehouse is required: the DuckDB file to load into")
        else:
            loaded = load(args.warehouse, settings, full_refresh=args.full_refresh)
            where = str(args.warehouse)
    except LoadError as error:
        print(error, file=sys.stderr)
        return 1
    rows = sum(file["row_count"] or 0 for file in loaded)
    print(f"load: {len(loaded)} new export files, {rows:,} rows, into {where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
