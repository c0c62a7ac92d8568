"""Print where the marts are and a one-screen summary of fct_stage_conversion.

Usage: python scripts/print_summary.py [path/to/pipeline.duckdb]
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

MARTS = [
    "fct_stage_conversion",
    "fct_stage_conversion_daily",
    "fct_pipeline_plan",
    "fct_lead_stage_visits",
    "rpt_old_leads",
    "dim_stages",
    "rpt_export_files",
]


def format_value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def main(database: Path) -> None:
    with duckdb.connect(str(database), read_only=True) as connection:
        print(f"\nWarehouse: {database.resolve()}  (schema 'marts')")
        for mart in MARTS:
            count = connection.execute(f"select count(*) from marts.{mart}").fetchone()[0]
            print(f"  marts.{mart:<28} {count:>8} rows")
        print(f"  as Parquet: {database.resolve().parent / 'marts'}/<mart>.parquet")
        files = connection.execute(
            "select status, count(*), sum(row_count) from marts.rpt_export_files "
            "group by status order by status"
        ).fetchall()
        print(
            "  files: "
            + ", ".join(
                f"{n} {status}" + (f" ({rows:,} rows)" if rows is not None else "")
                for status, n, rows in files
            )
        )
        cursor = connection.execute(
            """
            select
                stage_key, leads_entered, leads_advanced, leads_completed, leads_old,
                leads_in_window, conversion_rate, expected_days_to_convert,
                benchmark_conversion_rate, diagnosis, as_of_date
            from marts.fct_stage_conversion
            order by stage_order
            """
        )
        rows = cursor.fetchall()
    if not rows:
        print("\nfct_stage_conversion is empty: no stage changes in the data.")
        return
    headers = [
        "stage",
        "entered",
        "advanced",
        "completed",
        "old",
        "window",
        "CR",
        "exp.days",
        "bench",
        "diagnosis",
    ]
    table = [headers] + [[format_value(v) for v in row[:-1]] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    print(f"\nStage conversion as of {rows[0][-1]}  (CR = advanced / (completed + old))")
    for line in table:
        print(
            "  "
            + "  ".join(
                cell.rjust(width) if i else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            )
        )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "warehouse/pipeline.duckdb"))
