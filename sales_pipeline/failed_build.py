"""Why a build stopped on the rejected-share limit, in plain words.

When more of a raw table's rows are quarantined than max_rejected_share
allows, dbt reports only that the test assert_rejected_share_within_limit
failed. The publisher keeps the failed build's copy and reads it here: one
line per rejection reason with its count and share, an example value and
where it is in the export files, and what to do (for dates that do not
parse, the var input_timestamp_format and a format that reads them).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import os
from pathlib import Path

import duckdb

DEFAULT_MAX_REJECTED_SHARE = 0.05
# profiles.yml's default: DuckDB's own, a share of the machine's memory.
DEFAULT_MEMORY_LIMIT = "80%"
# Measured (README, PIPELINE_DUCKDB_MEMORY_LIMIT): 10 M stage changes build
# within 600MB; with room to spare, a GB per 10 M.
GB_PER_10M_TRANSITIONS = 1
# Tried in this order on the values that did not parse; the first formats
# that read every sampled value are suggested.
DATE_FORMATS = ("%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%m-%d-%Y")
TIME_FORMATS = ("", " %H:%M", " %H:%M:%S", "T%H:%M:%S", " %I:%M %p")
# Every distinct value up to this many: one day after the 12th tells day-first from month-first.
SAMPLES = 5000
# What a reason means and what to do about it; the unparseable dates get a
# format of their own (date_advice).
ADVICE = {
    "missing_lead_id": "rows without a lead_id: export the id of every row",
    "conflicting_lead_rows": "one lead_id on rows that differ: export one row per lead",
    "unparseable_deal_amount": (
        "amounts that are not plain numbers: export them with a decimal point and no "
        "thousands separators (1234.56)"
    ),
    "negative_deal_amount": "amounts below 0",
    "unknown_stage_key": "stages that pipeline_stages.csv does not list: add them (config_path)",
    "unknown_lead_id": "stage changes of leads that raw_leads does not hold: export both tables",
    "lead_rejected": "stage changes of leads that are themselves quarantined (see raw_leads)",
    "before_lead_created": (
        "stage changes dated before their lead was created (history imported into the CRM?); "
        "if that is expected, raise max_rejected_share"
    ),
    "in_the_future": "dated after the build's day (a typo in the year?)",
    "stage_of_another_pipeline": (
        "stage changes into another pipeline than the lead's first one: a lead's changes "
        "must stay in one pipeline (pipeline_stages.csv, column pipeline_id)"
    ),
}
# Where a reason's example value is, per raw table: (column, the table's
# quarantine, the column holding the value as written).
EXAMPLE_COLUMNS = {
    ("raw_leads", "unparseable_created_at"): "unparsed_created_at",
    ("raw_leads", "unparseable_deal_amount"): "deal_amount_text",
    ("raw_leads", "negative_deal_amount"): "deal_amount_text",
    ("raw_leads", "conflicting_lead_rows"): "lead_id",
    ("raw_leads", "in_the_future"): "cast(created_at as varchar)",
    ("raw_lead_transitions", "unparseable_entered_at"): "unparsed_entered_at",
    ("raw_lead_transitions", "unknown_stage_key"): "stage_key",
    ("raw_lead_transitions", "unknown_lead_id"): "lead_id",
    ("raw_lead_transitions", "lead_rejected"): "lead_id",
    ("raw_lead_transitions", "before_lead_created"): "lead_id",
    ("raw_lead_transitions", "stage_of_another_pipeline"): "stage_key",
    ("raw_lead_transitions", "in_the_future"): "cast(entered_at as varchar)",
}
QUARANTINE = {"raw_leads": "rejected_leads", "raw_lead_transitions": "rejected_lead_transitions"}


def explain_rejections(
    database: Path,
    raw_path: str | None,
    max_share: float,
    input_timestamp_format: str | None = None,
) -> list[str]:
    """The lines that say why the build stopped, or [] when no raw table's
    rejected share is above max_share (it failed for another reason)."""
    try:
        with duckdb.connect(str(database), read_only=True) as connection:
            return _explain(connection, raw_path, max_share, input_timestamp_format)
    except duckdb.Error:
        return []  # the build stopped before the report was built


def has_data_quality_report(database: Path) -> bool:
    """Whether the build got as far as the data-quality report and the quarantines."""
    try:
        with duckdb.connect(str(database), read_only=True) as connection:
            (count,) = connection.execute(
                "select count(*) from information_schema.tables where table_schema = 'marts' "
                "and table_name in ('rpt_data_quality', 'rejected_leads', "
                "'rejected_lead_transitions')"
            ).fetchone()
    except duckdb.Error:
        return False
    return count == 3


def _explain(connection, raw_path, max_share, input_timestamp_format) -> list[str]:
    totals = dict(
        connection.execute(
            "select table_name, sum(row_count) from marts.rpt_data_quality group by table_name"
        ).fetchall()
    )
    rejected: dict[str, dict[str, int]] = {}
    for table, reason, rows in connection.execute(
        "select table_name, reason, sum(row_count) from marts.rpt_data_quality "
        "where outcome = 'rejected' group by table_name, reason "
        "order by table_name desc, 3 desc, reason"
    ).fetchall():
        rejected.setdefault(table, {})[reason] = rows
    lines = []
    for table, reasons in rejected.items():
        total = totals.get(table) or 0
        share = sum(reasons.values()) / total if total else 0
        if share <= max_share:
            continue
        lines.append(
            f"{share:.1%} of the {total:,} {table} rows were quarantined, above "
            f"max_rejected_share ({max_share:g}):"
        )
        for reason, rows in reasons.items():
            values = _values(connection, table, reason)
            line = f"  - {reason}: {rows:,} rows ({rows / total:.1%})"
            if values:
                found = first_in_exports(raw_path, table, set(values))
                example, where = found if found else (values[0], None)
                line += f", e.g. {example!r}" + (f" ({where})" if where else "")
            line += f": {_advice(table, reason, values, input_timestamp_format)}"
            lines.append(line)
    return lines


def _values(connection, table: str, reason: str) -> list[str]:
    """The distinct values (as written) behind a reason, up to SAMPLES."""
    column = EXAMPLE_COLUMNS.get((table, reason))
    if column is None:
        return []
    return [
        str(value)
        for (value,) in connection.execute(
            f"select distinct {column} from marts.{QUARANTINE[table]} "
            f"where rejection_reason = ? and {column} is not null order by all limit {SAMPLES}",
            [reason],
        ).fetchall()
    ]


def _advice(table: str, reason: str, values: list[str], input_timestamp_format) -> str:
    if reason in ("unparseable_created_at", "unparseable_entered_at"):
        return date_advice(values, input_timestamp_format)
    return ADVICE.get(reason, "see marts.rpt_data_quality")


def date_advice(values: list[str], input_timestamp_format: str | None = None) -> str:
    """What to set so that these dates parse."""
    formats = formats_that_read(values)
    if input_timestamp_format:
        head = f"they do not match input_timestamp_format {input_timestamp_format!r}"
        return head + (f"; {_set_format(formats)}" if formats else "")
    if not formats:
        return (
            "dates that are not ISO-8601 (2025-01-31 or 2025-01-31T10:00:00Z): set the var "
            "input_timestamp_format to the strptime format they are written in"
        )
    return f"dates that are not ISO-8601: {_set_format(formats)}"


def _set_format(formats: list[str]) -> str:
    if len(formats) == 1:
        return f"set the var input_timestamp_format: {formats[0]!r}, which reads them"
    return (
        f"set the var input_timestamp_format: {formats[0]!r} or {formats[1]!r} (the values "
        "shown fit both: look for a day after the 12th to tell which)"
    )


def formats_that_read(values: list[str]) -> list[str]:
    """The candidate formats that read every value (at most two, day-first first)."""
    found = []
    for date_format in DATE_FORMATS:
        for time_format in TIME_FORMATS:
            candidate = date_format + time_format
            if values and all(_reads(candidate, value) for value in values):
                found.append(candidate)
                break
    return found[:2]


def _reads(candidate: str, value: str) -> bool:
    try:
        dt.datetime.strptime(value.strip(), candidate)
    except ValueError:
        return False
    return True


def first_in_exports(raw_path: str | None, table: str, values: set[str]) -> tuple[str, str] | None:
    """The first of the values in the table's CSV exports (files by name,
    then lines) and where: (value, '<file> line <n>'); None for Parquet,
    the seeds, or when none is found."""
    if not raw_path or not Path(raw_path).is_dir():
        return None
    for path in sorted(Path(raw_path).iterdir(), key=lambda p: p.name):
        lower = path.name.lower()
        # raw_lead_transitions* does not start with raw_leads, nor the reverse.
        if not lower.startswith(table) or not lower.endswith((".csv", ".csv.gz")):
            continue
        if path.is_symlink() or not path.is_file():
            continue
        opener = gzip.open if lower.endswith(".gz") else open
        try:
            with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
                header = handle.readline()
                delimiter = max(",;\t|", key=header.count)
                reader = csv.reader(handle, delimiter=delimiter)
                for fields in reader:
                    hit = next((f.strip() for f in fields if f.strip() in values), None)
                    if hit is not None:
                        return hit, f"{path.name} line {reader.line_num + 1}"
        except (OSError, EOFError, csv.Error):
            return None
    return None


def explain_out_of_memory(project_dir: Path) -> list[str]:
    """When dbt stopped because DuckDB ran out of memory (its run_results.json
    says which model), which setting to raise, instead of DuckDB's advice
    to run SET statements a dbt user cannot run."""
    try:
        results = json.loads((project_dir / "target" / "run_results.json").read_text())
    except (OSError, ValueError):
        return []
    failed = [
        result["unique_id"].split(".")[-1]
        for result in results.get("results", [])
        if "Out of Memory Error" in (result.get("message") or "")
    ]
    if not failed:
        return []
    limit = os.environ.get("PIPELINE_DUCKDB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
    return [
        f"DuckDB ran out of memory building {', '.join(failed)} with memory_limit {limit} "
        "(env PIPELINE_DUCKDB_MEMORY_LIMIT): raise it, e.g. PIPELINE_DUCKDB_MEMORY_LIMIT=16GB "
        f"(a build needs about {GB_PER_10M_TRANSITIONS} GB per 10 M stage changes), or set "
        "PIPELINE_DUCKDB_THREADS=1, which needs less memory and takes longer"
    ]
