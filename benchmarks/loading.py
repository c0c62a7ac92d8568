"""Issue 27's measurement: landing the export files as raw tables, our own
DuckDB-native loader against dlt (its filesystem source and DuckDB
destination), on the same files. Writes nothing into the repository: prints
a Markdown table (and, with --json, the raw numbers); benchmarks/LOADING.md
holds the results.

    python benchmarks/loading.py --data 1M=/tmp/load1m,/tmp/load1m_pq \\
        --data 10M=/tmp/load10m,/tmp/load10m_pq --dlt-python /tmp/dltvenv/bin/python \\
        --messages --repeat 3 [--json /tmp/loading.json]

The folders come from scripts/generate_scale_data.py (--format csv, and
--format parquet for the second folder). Every measured step is a process
of its own, started by this script (os.wait4 gives that process's peak
resident memory); its wall time includes the interpreter's start and the
imports. dlt is not in the project's lock: it runs under --dlt-python, a
throwaway venv (python3.11 -m venv /tmp/dltvenv && /tmp/dltvenv/bin/pip
install "dlt[duckdb,filesystem]" pyarrow pandas). This script itself only
needs the project's venv (duckdb); the same file is the child of both.

Approaches (--approaches, default all):
- inspect: the loader's inspect_file on every file (sales_pipeline/export_files.py:
  bytes, encoding, header, and every line through DuckDB's CSV reader).
- checksum: sha256 of every file (the ledger's checksum column).
- loader: the project's loader, sales_pipeline.load, end to end on the
  folder: listing, inspection, checksum, landing and ledger (what make build
  runs before dbt).
- own: per raw table one CREATE TABLE ... AS SELECT * EXCLUDE (filename),
  filename AS source_file FROM read_csv([...], explicit options, all_varchar)
  (read_parquet for Parquet) into a DuckDB file, plus the ledger's rows per
  file. No inspection or checksum: those are the two steps above.
- dlt-arrow: filesystem | read_csv_duckdb(use_pyarrow=True, all_varchar=True)
  (read_parquet(use_pyarrow=True) for Parquet): dlt's Arrow route, its fastest.
  It adds no column of its own; dlt-arrow-id is the same with the column
  _dlt_load_id (normalize.parquet_normalizer.add_dlt_load_id), the batch
  column the warehouse's crm_batch_column var can name.
- dlt-pandas: filesystem | read_csv(dtype=str) (pandas chunks turned into
  dicts), the required columns hinted as text, loaded through Parquet load
  files (loader_file_format="parquet"). One round only (minutes at 10 M).
- dlt-default: the documented defaults: filesystem | read_csv(dtype=str)
  (read_parquet() for Parquet), dicts, no hints, dlt's default load files
  for DuckDB (insert_values). Slow and memory-hungry (about 6 GB at 1 M
  rows): one round, and only on the --slow-on sizes.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TABLES = {
    "raw_leads": ["lead_id", "created_at", "lead_source", "segment", "owner_id", "deal_amount_usd"],
    "raw_lead_transitions": ["lead_id", "stage_key", "entered_at"],
}
APPROACHES = (
    "inspect",
    "checksum",
    "own",
    "loader",
    "dlt-arrow",
    "dlt-arrow-id",
    "dlt-pandas",
    "dlt-default",
)
SLOW = {"dlt-default"}  # only on --slow-on sizes
ONE_ROUND = {"dlt-pandas", "dlt-default"}
DLT_APPROACHES = {"dlt-arrow", "dlt-arrow-id", "dlt-pandas", "dlt-default"}
CSV_OPTIONS = "header = true, delim = ',', quote = '\"', escape = '\"', all_varchar = true"
# The first data line is line 2; the short row is written as line 57.
SHORT_LINE = 57


# --- the files -------------------------------------------------------------------


def export_files(folder: Path, file_format: str) -> dict[str, list[str]]:
    """The files of each raw table in folder, as the warehouse names them."""
    ends = (".parquet",) if file_format == "parquet" else (".csv", ".csv.gz")
    found: dict[str, list[str]] = {table: [] for table in TABLES}
    # raw_lead_transitions does not start with raw_leads: one match at most.
    for path in sorted(folder.iterdir()):
        lower = path.name.lower()
        table = next((t for t in TABLES if lower.startswith(t)), None)
        if table and lower.endswith(ends) and path.is_file():
            found[table].append(str(path))
    return found


# --- the children (each runs in a process of its own) ------------------------------


def child_inspect(job: dict) -> dict:
    sys.path.insert(0, str(REPO))
    from sales_pipeline.export_files import inspect_file

    rows, problems = 0, []
    for table, files in job["files"].items():
        for path in files:
            lower = path.lower()
            kind = (
                "parquet"
                if lower.endswith(".parquet")
                else ("csv.gz" if lower.endswith(".gz") else "csv")
            )
            result = inspect_file(path, kind, TABLES[table], "utf-8")
            rows += result.get("row_count") or 0
            problems += [f"{Path(path).name} {p}" for p in result["problems"]]
    return {"rows": rows, "problems": problems}


def child_checksum(job: dict) -> dict:
    sums = {}
    for files in job["files"].values():
        for path in files:
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
            sums[Path(path).name] = digest.hexdigest()[:16]
    return {"sha256": sums}


def own_select(files: list[str], file_format: str) -> str:
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    if file_format == "parquet":
        reader = f"read_parquet([{listed}], filename = true)"
    else:
        reader = f"read_csv([{listed}], {CSV_OPTIONS}, filename = true)"
    return f"select * exclude (filename), filename as source_file from {reader}"


def child_own(job: dict) -> dict:
    import duckdb

    connection = duckdb.connect(job["database"])
    connection.execute("create schema if not exists raw")
    connection.execute(
        "create or replace table raw._load_ledger (source_file varchar, raw_table varchar,"
        " file_size_bytes bigint, row_count bigint, status varchar, reason varchar,"
        " loaded_at timestamptz)"
    )
    steps = {"create": 0.0, "ledger": 0.0}
    for table, files in job["files"].items():
        if not files:
            continue
        start = time.perf_counter()
        connection.execute(
            f"create or replace table raw.{table} as {own_select(files, job['format'])}"
        )
        steps["create"] += time.perf_counter() - start
        start = time.perf_counter()
        for path, count in connection.execute(
            f"select source_file, count(*) from raw.{table} group by all"
        ).fetchall():
            connection.execute(
                "insert into raw._load_ledger values (?, ?, ?, ?, 'loaded', null, now())",
                [path, table, os.path.getsize(path), count],
            )
        steps["ledger"] += time.perf_counter() - start
    result = describe_tables(connection, "raw")
    connection.close()
    result["steps"] = {name: round(seconds, 1) for name, seconds in steps.items()}
    return result


def describe_tables(connection, schema: str) -> dict:
    tables = {}
    for (table,) in connection.execute(
        "select table_name from information_schema.tables where table_schema = ?"
        " and table_name like 'raw%' order by 1",
        [schema],
    ).fetchall():
        columns = connection.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()
        count = connection.execute(f'select count(*) from {schema}."{table}"').fetchone()[0]
        tables[table] = {"rows": count, "columns": [f"{c} {t}" for c, t in columns]}
    return {"tables": tables, "rows": sum(t["rows"] for t in tables.values())}


def child_dlt(job: dict) -> dict:
    if job["approach"] == "dlt-arrow-id":
        os.environ["NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID"] = "true"
    import dlt
    import duckdb
    from dlt.sources.filesystem import filesystem, read_csv, read_csv_duckdb, read_parquet

    approach, file_format, chunk = job["approach"], job["format"], job["chunk"]
    pipeline = dlt.pipeline(
        pipeline_name="loading_bench",
        destination=dlt.destinations.duckdb(job["database"]),
        dataset_name="raw",
        pipelines_dir=job["pipelines_dir"],
    )
    resources = []
    for table, files in job["files"].items():
        if not files:
            continue
        # One filesystem resource per table: its files by name (all in one folder).
        folder = str(Path(files[0]).parent)
        glob = Path(files[0]).name if len(files) == 1 else f"{table}*.{file_format}"
        listed = filesystem(bucket_url=folder, file_glob=glob)
        if file_format == "parquet":
            reader = (
                read_parquet(use_pyarrow=True, chunksize=chunk)
                if approach.startswith("dlt-arrow")
                else read_parquet()
            )
        elif approach.startswith("dlt-arrow"):
            # The dialect spelled out, as the own loader does: left to DuckDB's
            # sniffer, a file with a short row loads as one column (LOADING.md).
            reader = read_csv_duckdb(
                use_pyarrow=True,
                chunk_size=chunk,
                header=True,
                delimiter=",",
                quotechar='"',
                escapechar='"',
                all_varchar=True,
            )
        else:
            reader = read_csv(dtype=str, sep=",", quotechar='"')
        resource = (listed | reader).with_name(table)
        if approach == "dlt-pandas":
            # Text stays text: without hints dlt's default schema turns ISO
            # timestamps into TIMESTAMP WITH TIME ZONE (dlt-default shows it).
            resource.apply_hints(columns={c: {"data_type": "text"} for c in TABLES[table]})
        resources.append(resource)
    fmt = None if approach == "dlt-default" else "parquet"
    info = pipeline.run(resources, write_disposition="append", loader_file_format=fmt)
    steps = {
        step.step: round((step.finished_at - step.started_at).total_seconds(), 1)
        for step in pipeline.last_trace.steps
    }
    connection = duckdb.connect(job["database"], read_only=True)
    result = describe_tables(connection, "raw")
    connection.close()
    result["steps"] = steps
    result["failed_jobs"] = info.has_failed_jobs
    return result


def child_messages(job: dict) -> dict:
    """What each approach says about each malformed file: a message, or what it loaded."""
    said = {}
    for path in job["paths"]:
        name = Path(path).name
        files = {"raw_lead_transitions": [path]}
        try:
            if job["approach"] == "inspect":
                result = child_inspect({"files": files})
                said[name] = "; ".join(result["problems"]) or "no problem"
                continue
            sub = {**job, "files": files, "format": "csv"}
            sub["database"] = str(Path(job["work"]) / f"{job['approach']}_{name}.duckdb")
            sub["pipelines_dir"] = str(Path(job["work"]) / f"pipes_{job['approach']}_{name}")
            result = child_own(sub) if job["approach"] == "own" else child_dlt(sub)
            tables = result["tables"]
            said[name] = "no error: loaded " + "; ".join(
                f"{t} {v['rows']} rows ({', '.join(v['columns'])})" for t, v in tables.items()
            )
        except Exception as error:  # the message is what is measured
            said[name] = f"{type(error).__name__}: {error}"
    return {"said": said}


def child_loader(job: dict) -> dict:
    sys.path.insert(0, str(REPO))
    from sales_pipeline.load import LoadSettings, load

    settings = LoadSettings(
        raw_path=Path(job["folder"]), raw_format=job["format"], settle_seconds=0
    )
    loaded = load(Path(job["database"]), settings)
    return {"rows": sum(file["row_count"] or 0 for file in loaded), "files": len(loaded)}


CHILDREN = {
    "inspect": child_inspect,
    "loader": child_loader,
    "checksum": child_checksum,
    "own": child_own,
    "dlt": child_dlt,
    "messages": child_messages,
}


# --- the parent ---------------------------------------------------------------------


def run_child(python: str, kind: str, job: dict, work: Path) -> dict:
    """Runs one child; its result, wall seconds and peak resident MB (os.wait4's
    ru_maxrss of that process: its own peak, or a reaped child's if larger)."""
    work.mkdir(parents=True, exist_ok=True)
    out_path, err_path = work / f"{kind}.out", work / f"{kind}.err"
    with out_path.open("w") as out, err_path.open("w") as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            [python, __file__, "child", kind, json.dumps(job)], stdout=out, stderr=err
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{err_path.read_text()[-4000:]}")
    result = json.loads(out_path.read_text().strip().splitlines()[-1])
    result["wall_s"] = round(wall, 2)
    result["peak_mb"] = round(usage.ru_maxrss / 1024)
    return result


def child_main(kind: str, job_text: str) -> None:
    print(json.dumps(CHILDREN[kind](json.loads(job_text))))


def measure(args, label: str, folder: Path, file_format: str, approach: str) -> dict:
    """One run of one approach on one folder."""
    files = export_files(folder, file_format)
    work = Path(args.work) / f"{label}_{file_format}_{approach}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    job = {"files": files, "format": file_format}
    if approach in DLT_APPROACHES:
        job |= {
            "approach": approach,
            "chunk": args.dlt_chunk,
            "database": str(work / "dlt.duckdb"),
            "pipelines_dir": str(work / "pipelines"),
        }
        result = run_child(args.dlt_python, "dlt", job, work)
    elif approach == "own":
        job["database"] = str(work / "own.duckdb")
        result = run_child(sys.executable, "own", job, work)
    elif approach == "loader":
        job |= {"database": str(work / "loader.duckdb"), "folder": str(folder)}
        result = run_child(sys.executable, "loader", job, work)
    else:
        result = run_child(sys.executable, approach, job, work)
    shutil.rmtree(work, ignore_errors=True)
    size = sum(os.path.getsize(f) for fs in files.values() for f in fs)
    return result | {"size": label, "format": file_format, "approach": approach, "bytes": size}


def measure_all(args, approaches: list[str]) -> list[dict]:
    """Every step --repeat times, the rounds interleaved (a noisy shared machine
    slows neighbours alike); the fastest run of each is kept, with all its times."""
    steps = []
    for item in args.data:
        label, _, folders = item.partition("=")
        for folder, file_format in zip(folders.split(","), ("csv", "parquet"), strict=False):
            for approach in approaches:
                if approach in SLOW and label not in args.slow_on.split(","):
                    continue
                if approach == "dlt-pandas" and file_format == "parquet":
                    continue  # pandas reads CSV; Parquet has dlt-arrow and dlt-default
                if approach in DLT_APPROACHES and not args.dlt_python:
                    continue
                steps.append((label, Path(folder), file_format, approach))
    best: dict[tuple, dict] = {}
    for round_ in range(args.repeat):
        for step in steps:
            if round_ and step[3] in ONE_ROUND:
                continue
            result = measure(args, *step)
            print(
                f"round {round_ + 1}: {row(result | {'runs': [result['wall_s']]})}", file=sys.stderr
            )
            kept = best.get(step)
            runs = [*(kept["runs"] if kept else []), result["wall_s"]]
            if kept is None or result["wall_s"] < kept["wall_s"]:
                kept = result
            best[step] = kept | {"runs": runs}
    return [best[step] for step in steps]


def row(r: dict) -> str:
    steps = ", ".join(f"{k} {v}" for k, v in (r.get("steps") or {}).items())
    runs = "/".join(f"{w:.1f}" for w in r["runs"])
    rows = f"{r['rows']:,}" if "rows" in r else ""
    return (
        f"| {r['size']} | {r['format']} | {r['approach']} | {r['bytes'] / 1e6:,.0f} | {rows} |"
        f" {r['wall_s']:.1f} | {runs} | {r['peak_mb']:,} | {steps} |"
    )


# --- the malformed files --------------------------------------------------------------


def write_malformed(folder: Path) -> list[str]:
    """Three broken raw_lead_transitions exports (each valid but for its one fault)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["lead_id,stage_key,entered_at"] + [
        f"L{n:08d},qualification,2025-01-{1 + n % 28:02d}T10:00:00Z" for n in range(1, 101)
    ]
    short = list(lines)
    short[SHORT_LINE - 1] = "L00000056,qualification"
    paths = {
        "raw_lead_transitions_short_row.csv": ("\n".join(short) + "\n").encode(),
        "raw_lead_transitions_gzipped.csv": gzip.compress(("\n".join(lines) + "\n").encode()),
        "raw_lead_transitions_no_entered_at.csv": (
            "\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n"
        ).encode(),
    }
    for name, data in paths.items():
        (folder / name).write_bytes(data)
    return [str(folder / name) for name in paths]


def messages(args) -> dict:
    folder = Path(args.work) / "malformed"
    paths = write_malformed(folder)
    said = {}
    for approach in ("inspect", "own", "dlt-arrow", "dlt-pandas"):
        job = {"paths": paths, "approach": approach, "work": str(folder), "chunk": 100_000}
        if approach in DLT_APPROACHES:
            if not args.dlt_python:
                continue
            result = run_child(args.dlt_python, "messages", job, folder)
        else:
            result = run_child(sys.executable, "messages", job, folder)
        said[approach] = result["said"]
        for name, text in result["said"].items():
            print(f"- {approach} / {name}:\n  {text}", flush=True)
    return said


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["child"]:
        child_main(argv[1], argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="LABEL=CSV_FOLDER[,PARQUET_FOLDER]",
        help="a size to measure: the generator's CSV folder and, optionally, its Parquet one",
    )
    parser.add_argument("--dlt-python", help="python of a venv with dlt[duckdb,filesystem]")
    parser.add_argument("--approaches", default=",".join(APPROACHES))
    parser.add_argument(
        "--slow-on", default="1M", help="the sizes (labels) on which dlt-default runs"
    )
    parser.add_argument("--dlt-chunk", type=int, default=100_000, help="rows per Arrow batch")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of runs (the fastest of each step is kept)"
    )
    parser.add_argument("--messages", action="store_true", help="the malformed-file comparison")
    parser.add_argument("--work", default="/tmp/loading_bench", help="scratch folder (removed)")
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args(argv)
    approaches = [a for a in args.approaches.split(",") if a]
    unknown = sorted(set(approaches) - set(APPROACHES))
    if unknown:
        parser.error(f"unknown approaches {unknown}: choose from {', '.join(APPROACHES)}")
    results: dict = {"rows": measure_all(args, approaches), "messages": None}
    if results["rows"]:
        print("| size | format | approach | file MB | rows | wall s | runs | peak MB | steps s |")
        print("|---|---|---|---|---|---|---|---|---|")
        for result in results["rows"]:
            print(row(result))
    if args.messages:
        results["messages"] = messages(args)
    shutil.rmtree(args.work, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
