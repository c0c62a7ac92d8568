"""The warehouse on each target of profiles.yml: a DuckDB file, a database
on a PostgreSQL server, or Spark in session mode (the metastore and tables
in the folder dbt runs in). What points dbt's target at one warehouse, and
reading its tables back, for the builds on other engines (tests/engines,
benchmarks/engines.py).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import pickle
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

TARGETS = ("duckdb", "postgres", "spark")


@dataclass(frozen=True)
class Warehouse:
    """One warehouse on a target, kept in (or named after) a folder: the
    DuckDB file warehouse.duckdb in it, a PostgreSQL database of its own, or
    the Spark tables dbt writes when it runs there."""

    target: str
    folder: Path

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {', '.join(TARGETS)}, got {self.target!r}")

    @property
    def duckdb_file(self) -> Path:
        return self.folder / "warehouse.duckdb"

    @property
    def postgres_database(self) -> str:
        """The folder's database on the PostgreSQL server."""
        return "t_" + hashlib.sha256(str(self.folder).encode()).hexdigest()[:16]

    def create(self) -> None:
        """An empty warehouse: on PostgreSQL a new database, replacing one
        of the same name (the other targets create theirs on first use)."""
        if self.target != "postgres":
            return
        server = postgres_connection(os.environ.get("PIPELINE_POSTGRES_DBNAME", "pipeline"))
        server.autocommit = True  # create database runs outside a transaction
        try:
            with server.cursor() as cursor:
                cursor.execute(f"drop database if exists {self.postgres_database}")
                cursor.execute(f"create database {self.postgres_database}")
        finally:
            server.close()

    def env(self) -> dict[str, str]:
        """The environment that points dbt (profiles.yml) at this warehouse;
        dbt runs in the folder, where Spark keeps its tables."""
        env = {"DBT_TARGET": self.target, "PIPELINE_DUCKDB_PATH": str(self.duckdb_file)}
        if self.target == "postgres":
            env["PIPELINE_POSTGRES_DBNAME"] = self.postgres_database
        if self.target == "spark":
            env.update(SPARK_LOCAL_IP="127.0.0.1", TZ="UTC")
        return env

    def query(self, queries: list[str]) -> list[tuple[list[str], list[dict[str, object]]]]:
        """Each query's column names and rows, read in one go (on Spark one
        session serves them all, until release)."""
        if self.target == "spark":
            reader = SparkReader.current
            if reader is None or reader.root != self.folder:
                reader = SparkReader(self.folder, self.env())
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
        with duckdb.connect(str(self.duckdb_file), read_only=True) as connection:
            return [named_rows(connection.execute(sql)) for sql in queries]

    def release(self) -> None:
        """Closes this warehouse's Spark reader: dbt's own Spark session
        needs the folder's metastore (Derby lets one process open it)."""
        SparkReader.close_current(self.folder)


def named_rows(cursor) -> tuple[list[str], list[dict[str, object]]]:
    """A DB-API cursor's column names and its rows as dicts."""
    names = [column[0] for column in cursor.description]
    return names, [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def postgres_connection(dbname: str):
    """A connection to dbname on the server the postgres target reaches: the
    PIPELINE_POSTGRES_* variables, with profiles.yml's defaults."""
    import psycopg2  # make setup-postgres installs it

    return psycopg2.connect(
        host=os.environ.get("PIPELINE_POSTGRES_HOST", "127.0.0.1"),
        port=int(os.environ.get("PIPELINE_POSTGRES_PORT", "5432")),
        user=os.environ.get("PIPELINE_POSTGRES_USER", "pipeline"),
        password=os.environ.get("PIPELINE_POSTGRES_PASSWORD", ""),
        dbname=dbname,
    )


# A Spark session in a subprocess in the warehouse's folder, reading the
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
            raise RuntimeError(f"the Spark reader stopped:\n{log[-4000:]}")
        reply = pickle.loads(self.process.stdout.read(struct.unpack(">Q", header)[0]))
        if isinstance(reply, tuple) and reply[:1] == ("error",):
            raise RuntimeError(f"Spark query failed: {reply[1][:4000]}")
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
