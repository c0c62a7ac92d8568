"""Build a copy of the dbt project on data of a test's choosing.

Each build runs in its own folder under tmp_path with its own DuckDB file, so
tests never share state with each other or with the developer's warehouse.
dbt runs as a subprocess: one process per invocation keeps dbt-duckdb's
process-wide connection state out of the way.

PIPELINE_TEST_TARGET=postgres or spark (make test-postgres, make
test-spark) builds on that engine instead: on PostgreSQL each project gets
a database of its own on the server the PIPELINE_POSTGRES_* variables name;
on Spark, each project folder holds its own metastore and tables (session
mode), read back through a Spark session in a subprocess.
"""

from __future__ import annotations

import atexit
import csv
import hashlib
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
# The engine test builds run on: duckdb (the default), postgres or spark.
TARGET = os.environ.get("PIPELINE_TEST_TARGET", "duckdb")
DBT = Path(sys.executable).with_name("dbt")
PROJECT_FILES = ["dbt_project.yml", "profiles.yml"]
PROJECT_DIRS = ["models", "macros", "plugins", "seeds", "tests/generic", "tests/singular"]
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
    def database(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def postgres_database(self) -> str:
        """This project's database on the PostgreSQL server."""
        return "t_" + hashlib.sha256(str(self.root).encode()).hexdigest()[:16]

    @classmethod
    def copy_of_repo(cls, dest: Path, target: str = TARGET) -> DbtProject:
        dest.mkdir(parents=True, exist_ok=True)
        for name in PROJECT_FILES:
            shutil.copy2(REPO / name, dest / name)
        for name in PROJECT_DIRS:
            shutil.copytree(REPO / name, dest / name)
        project = cls(dest, target=target)
        if target == "postgres":
            connection = postgres_connection(os.environ["PIPELINE_POSTGRES_DBNAME"])
            connection.autocommit = True  # create database runs outside a transaction
            try:
                with connection.cursor() as cursor:
                    cursor.execute(f"drop database if exists {project.postgres_database}")
                    cursor.execute(f"create database {project.postgres_database}")
            finally:
                connection.close()
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
        process. A build leaves out the unit tests unless unit_tests is set."""
        return self._run(self._dbt_command(args, extra_vars, unit_tests), args, check)

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
            "PIPELINE_DUCKDB_PATH": str(self.database),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_TARGET": self.target,
            **self._engine_env(),
            **extra_env,
        }
        SparkReader.close_current(self.root)  # dbt's Spark session needs the metastore
        result = subprocess.run(command, cwd=self.root, env=env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(
                f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
            )
        return result

    def _engine_env(self) -> dict[str, str]:
        if self.target == "postgres":
            return {"PIPELINE_POSTGRES_DBNAME": self.postgres_database}
        if self.target == "spark":
            return {"SPARK_LOCAL_IP": "127.0.0.1", "TZ": "UTC"}
        return {}

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
        """Each query's column names and rows, read from the engine in one go
        (on Spark one session serves them all)."""
        if self.target == "spark":
            reader = SparkReader.current
            if reader is None or reader.root != self.root:
                reader = SparkReader(self.root, self._engine_env())
            return reader.query(queries)
        if self.target == "postgres":
            connection = postgres_connection(self.postgres_database)
            try:
                results = []
                for sql in queries:
                    with connection.cursor() as cursor:
                        cursor.execute(sql)
                        results.append(named_rows(cursor))
                return results
            finally:
                connection.close()
        with duckdb.connect(str(self.database), read_only=True) as connection:
            return [named_rows(connection.execute(sql)) for sql in queries]


def named_rows(cursor) -> tuple[list[str], list[dict[str, object]]]:
    names = [column[0] for column in cursor.description]
    return names, [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def postgres_connection(dbname: str):
    import psycopg2

    return psycopg2.connect(
        host=os.environ["PIPELINE_POSTGRES_HOST"],
        port=int(os.environ["PIPELINE_POSTGRES_PORT"]),
        user=os.environ["PIPELINE_POSTGRES_USER"],
        password=os.environ.get("PIPELINE_POSTGRES_PASSWORD", ""),
        dbname=dbname,
    )


# A Spark session in a subprocess in the project's folder, reading the
# metastore and tables dbt's session wrote there: queries go in and results
# come out as length-prefixed pickles, so one session (whose start costs
# seconds) serves every query between two dbt runs.
SPARK_READER = """
import pickle, struct, sys
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[1]").enableHiveSupport()
    .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
    .getOrCreate())
def read_frame():
    header = sys.stdin.buffer.read(8)
    return pickle.loads(sys.stdin.buffer.read(struct.unpack(">Q", header)[0])) if header else None
while (queries := read_frame()) is not None:
    try:
        reply = [(frame.columns, [row.asDict() for row in frame.collect()])
                 for frame in map(spark.sql, queries)]
    except Exception as error:
        reply = ("error", str(error))
    data = pickle.dumps(reply)
    sys.stdout.buffer.write(struct.pack(">Q", len(data)) + data)
    sys.stdout.buffer.flush()
"""


class SparkReader:
    """The one Spark reader session alive at a time (each holds the Derby
    metastore of its folder, which dbt needs back for its next run)."""

    current: SparkReader | None = None

    def __init__(self, root: Path, env: dict[str, str]):
        if SparkReader.current is not None:
            SparkReader.current.close()
        self.root = root
        self.process = subprocess.Popen(
            [sys.executable, "-c", SPARK_READER],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=(root / "spark_reader.log").open("ab"),
            env={**os.environ, **env},
        )
        SparkReader.current = self

    def query(self, queries: list[str]):
        data = pickle.dumps(queries)
        self.process.stdin.write(struct.pack(">Q", len(data)) + data)
        self.process.stdin.flush()
        header = self.process.stdout.read(8)
        if len(header) < 8:
            log = (self.root / "spark_reader.log").read_text(errors="replace")
            raise AssertionError(f"the Spark reader stopped:\n{log[-4000:]}")
        reply = pickle.loads(self.process.stdout.read(struct.unpack(">Q", header)[0]))
        if isinstance(reply, tuple) and reply[:1] == ("error",):
            raise AssertionError(f"Spark query failed: {reply[1][:4000]}")
        return reply

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=60)
        if SparkReader.current is self:
            SparkReader.current = None

    @classmethod
    def close_current(cls, root: Path | None = None) -> None:
        if cls.current is not None and (root is None or cls.current.root == root):
            cls.current.close()


atexit.register(SparkReader.close_current)


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
