"""MetricFlow beside BI readers: `mf` on the published warehouse, read-only.

`make metrics METRICS=... [GROUP_BY=...]` runs a query through it; any mf
command runs as

    python -m sales_pipeline.semantic_layer [--warehouse FILE] query \\
        --metrics win_rate,weighted_pipeline_coverage --group-by pipeline

It runs mf with profiles.yml's target metricflow, which opens the warehouse
file read-only (DuckDB's access_mode), as BI tools open it: DuckDB lets any
number of processes read a file together, so a query runs while BI tools
hold it open, and a refresh (sales_pipeline.publish, which never writes the
published file) swaps a new build in meanwhile; a query that started reads
the build it opened to the end. mf needs no write.

mf reads the semantic manifest the last dbt command wrote
(target/semantic_manifest.json). Its tables are named with the catalog of
the file dbt ran on (DuckDB names it after the file): `make build` writes
the published warehouse's, `make test` its test file's. When the manifest
names another catalog than the warehouse's, or a model, macro or
dbt_project.yml changed since it was written, `dbt parse` (which opens no
database) writes it again first, saying why.

Where a query's time goes (docs/dashboard-and-semantic-layer.md): Python
importing dbt and MetricFlow, then mf's `dbt debug`; the SQL itself takes
tens of milliseconds on the demo.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WAREHOUSE = REPO_ROOT / "warehouse" / "pipeline.duckdb"
# profiles.yml's read-only target for MetricFlow.
TARGET = "metricflow"
MANIFEST = Path("target") / "semantic_manifest.json"  # where mf reads it, in the project
# What the semantic manifest is parsed from.
SOURCES = {"models": ("*.yml", "*.yaml", "*.sql"), "macros": ("*.sql",)}


def executable(name: str) -> str:
    """This interpreter's environment's command, whatever PATH says."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def catalog_of(warehouse: Path) -> str:
    """The catalog DuckDB (and dbt-duckdb) names a database file by: its
    name up to the first dot, leading dots apart."""
    return warehouse.name.lstrip(".").split(".")[0]


def manifest_problem(project_dir: Path, warehouse: Path) -> str | None:
    """Why the project's semantic manifest cannot serve mf on this
    warehouse, or None when it can."""
    manifest = project_dir / MANIFEST
    try:
        written = manifest.stat().st_mtime
        models = json.loads(manifest.read_text())["semantic_models"]
    except FileNotFoundError:
        return f"there is no {MANIFEST} yet"
    except (OSError, ValueError, KeyError) as error:
        return f"{MANIFEST} cannot be read ({error})"
    catalogs = sorted({model["node_relation"]["database"] for model in models})
    if catalogs != [catalog_of(warehouse)]:
        return (
            f"{MANIFEST} was written for another warehouse file (catalog "
            f"{', '.join(catalogs) or 'none'}; {warehouse.name} is {catalog_of(warehouse)})"
        )
    sources = [project_dir / "dbt_project.yml"] + [
        path
        for folder, patterns in SOURCES.items()
        for pattern in patterns
        for path in (project_dir / folder).rglob(pattern)
    ]
    for path in sources:
        if path.exists() and path.stat().st_mtime > written:
            return f"{path.relative_to(project_dir)} changed since {MANIFEST} was written"
    return None


def environment(project_dir: Path, warehouse: Path) -> dict[str, str]:
    """mf's environment: the project, its profiles and the read-only target
    on this warehouse file."""
    env = {
        **os.environ,
        "DBT_TARGET": TARGET,
        "PIPELINE_DUCKDB_PATH": str(warehouse),
        "DBT_PROJECT_DIR": str(project_dir),
    }
    if (project_dir / "profiles.yml").exists():
        env["DBT_PROFILES_DIR"] = str(project_dir)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return env


def say(message: str) -> None:
    print(f"semantic layer: {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sales_pipeline.semantic_layer",
        description="Runs an mf (MetricFlow) command on the warehouse, opened read-only.",
    )
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=Path(os.environ.get("PIPELINE_DUCKDB_PATH") or DEFAULT_WAREHOUSE),
        help="the DuckDB file (default: PIPELINE_DUCKDB_PATH, else warehouse/pipeline.duckdb)",
    )
    parser.add_argument(
        "--project-dir", type=Path, default=REPO_ROOT, help="the dbt project (default: this one)"
    )
    parser.add_argument("mf_arguments", nargs=argparse.REMAINDER, help="mf's command and options")
    args = parser.parse_args(argv)
    if not args.mf_arguments:
        parser.error("name an mf command, e.g. query --metrics win_rate (or list metrics)")
    # Absolute, the link itself kept: the catalog is the published file's name.
    warehouse = args.warehouse.expanduser().absolute()
    project_dir = args.project_dir.expanduser().resolve()
    if not warehouse.exists():
        say(f"no warehouse at {warehouse}: run make build first")
        return 2
    env = environment(project_dir, warehouse)
    problem = manifest_problem(project_dir, warehouse)
    if problem is not None:
        say(f"dbt parse first: {problem}")
        command = [executable("dbt"), "parse", "--quiet", "--project-dir", str(project_dir)]
        if subprocess.run(command, env=env).returncode != 0:
            say("dbt parse failed: fix the project (the semantic layer's YAML?) and run it again")
            return 1
    mf = executable("mf")
    sys.stdout.flush()
    os.execvpe(mf, [mf, *args.mf_arguments], env)
    return 0  # not reached: mf replaces this process


if __name__ == "__main__":
    sys.exit(main())
