"""Build a copy of the dbt project on data of a test's choosing.

Each build runs in its own folder under tmp_path with its own DuckDB file, so
tests never share state with each other or with the developer's warehouse.
dbt runs as a subprocess: one process per invocation keeps dbt-duckdb's
process-wide connection state out of the way.
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

import duckdb

REPO = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).with_name("dbt")
PROJECT_FILES = ["dbt_project.yml", "profiles.yml"]
PROJECT_DIRS = ["models", "macros", "plugins", "seeds", "tests/generic", "tests/singular"]
# The spec's published marts and dim_stages.
PUBLISHED_MARTS = [
    "dim_stages",
    "fct_lead_stage_visits",
    "fct_stage_conversion",
    "fct_pipeline_plan",
    "rpt_old_leads",
]


@dataclass
class DbtProject:
    """A throw-away copy of the project and the warehouse it builds."""

    root: Path
    vars: dict[str, object] = field(default_factory=dict)

    @property
    def database(self) -> Path:
        return self.root / "warehouse.duckdb"

    @classmethod
    def copy_of_repo(cls, dest: Path) -> DbtProject:
        dest.mkdir(parents=True, exist_ok=True)
        for name in PROJECT_FILES:
            shutil.copy2(REPO / name, dest / name)
        for name in PROJECT_DIRS:
            shutil.copytree(REPO / name, dest / name)
        return cls(dest)

    def write_seed(self, folder: str, name: str, rows: list[dict[str, str]], columns: list[str]):
        write_csv(self.root / "seeds" / folder / f"{name}.csv", rows, columns)

    def dbt(self, *args: str, extra_vars: dict[str, object] | None = None, check: bool = True):
        """Run a dbt command in the copy on its warehouse; returns the completed process."""
        return self._run(self._dbt_command(args, extra_vars), args, check)

    def publish(self, *dbt_args: str, extra_vars: dict[str, object] | None = None, check=True):
        """`dbt build` through orchestration.publish, as `make build` runs it:
        it builds a copy of the warehouse (an empty one when the inputs
        differ from the published build's) and swaps it in only when dbt
        succeeds. dbt_args are further dbt build arguments."""
        run_vars = {**self.vars, **(extra_vars or {})}
        command = [
            sys.executable,
            "-m",
            "orchestration.publish",
            "--warehouse",
            str(self.database),
            "--project-dir",
            str(self.root),
        ]
        if run_vars:
            command += ["--vars", json.dumps(run_vars)]
        command += ["--", *without_unit_tests(("build", *dbt_args))[1:]]
        return self._run(command, ("publish", *dbt_args), check, PYTHONPATH=str(REPO))

    def _dbt_command(self, args, extra_vars) -> list[str]:
        run_vars = {**self.vars, **(extra_vars or {})}
        command = [
            str(DBT),
            *without_unit_tests(args),
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
            "PIPELINE_DUCKDB_PATH": str(self.database),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            **extra_env,
        }
        result = subprocess.run(command, cwd=self.root, env=env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(
                f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
            )
        return result

    def query(self, sql: str) -> list[dict[str, object]]:
        with duckdb.connect(str(self.database), read_only=True) as connection:
            cursor = connection.execute(sql)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def mart(self, name: str) -> tuple[list[str], list[dict[str, object]]]:
        """The mart's column names in order, and its rows."""
        with duckdb.connect(str(self.database), read_only=True) as connection:
            cursor = connection.execute(f"select * from marts.{name}")
            names = [column[0] for column in cursor.description]
            return names, [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


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
