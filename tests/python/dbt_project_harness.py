"""Build a copy of the dbt project on data of a test's choosing.

Each build runs in its own folder under tmp_path with its own DuckDB file, so
tests never share state with each other or with the developer's warehouse.
dbt runs as a subprocess: one process per invocation keeps dbt-duckdb's
process-wide connection state out of the way.

PIPELINE_TEST_TARGET=postgres or spark (make test-postgres, make
test-spark) builds on that engine instead: on PostgreSQL each project gets
a database of its own on the server the PIPELINE_POSTGRES_* variables name;
on Spark, each project folder holds its own metastore and tables (session
mode), read back through a Spark session in a subprocess
(sales_pipeline.engines.Warehouse).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sales_pipeline.build_inputs import INPUT_VARS
from sales_pipeline.engines import Warehouse

REPO = Path(__file__).resolve().parents[2]
# The engine test builds run on: duckdb (the default), postgres or spark.
TARGET = os.environ.get("PIPELINE_TEST_TARGET", "duckdb")
DBT = Path(sys.executable).with_name("dbt")
PROJECT_FILES = ["dbt_project.yml", "profiles.yml"]
PROJECT_DIRS = ["models", "macros", "seeds", "tests/generic", "tests/singular"]
# The published marts of metric definitions and dim_stages.
PUBLISHED_MARTS = [
    "dim_stages",
    "fct_lead_stage_visits",
    "fct_stage_conversion",
    "fct_pipeline_plan",
    "rpt_old_leads",
    "fct_stage_conversion_by_dimension",
    "fct_win_rates",
    "fct_pipeline_value",
    "fct_stage_flow",
    "fct_cohort_conversion",
    "fct_stage_time_to_advance",
]


@dataclass
class DbtProject:
    """A throw-away copy of the project and the warehouse it builds."""

    root: Path
    vars: dict[str, object] = field(default_factory=dict)
    target: str = TARGET

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse(self.target, self.root)

    @property
    def database(self) -> Path:
        return self.warehouse.duckdb_file

    @property
    def postgres_database(self) -> str:
        """This project's database on the PostgreSQL server."""
        return self.warehouse.postgres_database

    @classmethod
    def copy_of_repo(cls, dest: Path, target: str = TARGET) -> DbtProject:
        dest.mkdir(parents=True, exist_ok=True)
        for name in PROJECT_FILES:
            shutil.copy2(REPO / name, dest / name)
        for name in PROJECT_DIRS:
            shutil.copytree(REPO / name, dest / name)
        project = cls(dest, target=target)
        project.warehouse.create()
        return project

    def write_seed(self, folder: str, name: str, rows: list[dict[str, str]], columns: list[str]):
        write_csv(self.root / "seeds" / folder / f"{name}.csv", rows, columns)

    def dbt(
        self,
        *args: str,
        extra_vars: dict[str, object] | None = None,
        check: bool = True,
        unit_tests: bool = False,
    ):
        """Run a dbt command in the copy on its warehouse; returns the completed
        process. A build leaves out the unit tests unless unit_tests is set.
        With the var raw_path or config_path, a build or run loads the files
        first (sales_pipeline.load), as make build does: a load that stops is the
        result, its message in stdout."""
        run_vars = {**self.vars, **(extra_vars or {})}
        if args[:1] in (("build",), ("run",)) and (
            run_vars.get("raw_path") or run_vars.get("config_path")
        ):
            loaded = self.load(run_vars, full_refresh="--full-refresh" in args)
            if loaded.returncode != 0:
                return self._checked(loaded, ("load",), check)
        return self._run(self._dbt_command(args, extra_vars, unit_tests), args, check)

    def load(self, run_vars: dict[str, object], full_refresh: bool = False):
        """sales_pipeline.load into this project's warehouse (DuckDB or
        PostgreSQL); its stderr follows its stdout, in stdout."""
        command = [sys.executable, "-m", "sales_pipeline.load", "--target", self.target]
        if self.target == "duckdb":
            command += ["--warehouse", str(self.database)]
        for name in INPUT_VARS:  # the loader takes every build input as an option
            if run_vars.get(name):
                command += [f"--{name.replace('_', '-')}", str(run_vars[name])]
        settle = run_vars.get("export_settle_seconds")
        settle = os.environ.get("PIPELINE_EXPORT_SETTLE_SECONDS", "5") if settle is None else settle
        command += ["--settle-seconds", str(settle)]
        if full_refresh:
            command.append("--full-refresh")
        result = subprocess.run(
            command,
            cwd=self.root,
            env={**os.environ, **self.warehouse.env(), "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
        )
        return subprocess.CompletedProcess(
            result.args, result.returncode, result.stdout + result.stderr, ""
        )

    def publish(self, *dbt_args: str, extra_vars: dict[str, object] | None = None, check=True):
        """`dbt build` through sales_pipeline.publish, as `make build` runs it:
        it builds a copy of the warehouse (an empty one when the inputs
        differ from the published build's) and swaps it in only when dbt
        succeeds. dbt_args are further dbt build arguments."""
        run_vars = {**self.vars, **(extra_vars or {})}
        command = [
            sys.executable,
            "-m",
            "sales_pipeline.publish",
            "--warehouse",
            str(self.database),
            "--project-dir",
            str(self.root),
        ]
        if run_vars:
            command += ["--vars", json.dumps(run_vars)]
        command += ["--", *without_unit_tests(("build", *dbt_args))[1:]]
        return self._run(command, ("publish", *dbt_args), check, PYTHONPATH=str(REPO))

    def _dbt_command(self, args, extra_vars, unit_tests: bool = False) -> list[str]:
        run_vars = {**self.vars, **(extra_vars or {})}
        command = [
            str(DBT),
            *(args if unit_tests else without_unit_tests(args)),
            "--project-dir",
            str(self.root),
            "--profiles-dir",
            str(self.root),
        ]
        if run_vars:
            command += ["--vars", json.dumps(run_vars)]
        return command

    def _run(self, command: list[str], args, check: bool, **extra_env: str):
        env = {
            **os.environ,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            **self.warehouse.env(),
            **extra_env,
        }
        self.warehouse.release()  # dbt's Spark session needs the metastore
        result = subprocess.run(command, cwd=self.root, env=env, capture_output=True, text=True)
        return self._checked(result, args, check)

    @staticmethod
    def _checked(result, args, check: bool):
        if check and result.returncode != 0:
            raise AssertionError(
                f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
            )
        return result

    def query(self, sql: str) -> list[dict[str, object]]:
        return self.mart_query([sql])[0][1]

    def mart(self, name: str) -> tuple[list[str], list[dict[str, object]]]:
        """The mart's column names in order, and its rows."""
        return self.mart_query([f"select * from marts.{name}"])[0]

    def relation_exists(self, schema: str, name: str) -> bool:
        if self.target == "spark":
            return bool(self.query(f"show tables in {schema} like '{name}'"))
        return bool(
            self.query(
                "select * from information_schema.tables "
                f"where table_schema = '{schema}' and table_name = '{name}'"
            )
        )

    def mart_query(self, queries: list[str]) -> list[tuple[list[str], list[dict[str, object]]]]:
        """Each query's column names and rows, read from the engine in one go."""
        return self.warehouse.query(queries)


def without_unit_tests(args: tuple[str, ...]) -> tuple[str, ...]:
    """A build's arguments, leaving out the unit tests unless they are named:
    they read no data (mocked inputs only), so make test's own dbt build of
    the demo runs them once, and each test build saves their seconds."""
    if args[:1] != ("build",) or any("unit_test" in arg for arg in args):
        return tuple(args)
    return (*args, "--exclude-resource-type", "unit_test")


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({column: row.get(column) or "" for column in columns} for row in rows)
