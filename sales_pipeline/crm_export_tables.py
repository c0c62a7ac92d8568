"""Land a CRM's own export files as the tables its adapter reads.

Usage::

    python -m sales_pipeline.crm_export_tables pipedrive --source <export folder> \\
        --warehouse warehouse/pipeline.duckdb [--schema pipedrive]

then build with ``crm: pipedrive``, ``crm_loader: export`` and ``crm_schema`` set to
the schema (docs/own-data.md, "Real CRM exports"). The adapter does the mapping:
won and lost from the change log, post-sale stages left out and counted
(models/staging/pipedrive). This command only copies each file, checked like an
export file (delimiter, encoding, required columns, readable lines), into a table
of the same name with every column as text, all files in one transaction: a
broken file lands nothing. The files stay where they are.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from sales_pipeline.export_files import ENCODINGS, inspect_file, quote_identifier
from sales_pipeline.load import DuckDBDestination, LoadError, storage_version

# Per CRM, the export files its adapter's export layout reads and the columns
# each must have (models/staging/<crm>/_<crm>__sources.yml).
EXPORT_TABLES = {
    "pipedrive": {
        "deal_changes": ["deal_id", "change_time", "changed_field_key", "new_value"],
        "stages": ["stage_id", "stage_name"],
    },
}


def land_export_tables(
    destination, crm: str, source: Path, schema: str, encoding: str = "utf-8"
) -> dict[str, int]:
    """Lands <source>/<table>.csv of each of the CRM's export tables into
    <schema>.<table> (a DuckDBDestination or PostgresDestination); returns
    the rows landed per table. Raises LoadError naming every problem, having
    landed nothing."""
    plans, problems = {}, []
    for table, required in EXPORT_TABLES[crm].items():
        path = source / f"{table}.csv"
        plan = inspect_file(str(path), "csv", required, encoding)
        problems += [f"{path} {problem}" for problem in plan["problems"]]
        plans[table] = (path, plan)
    if problems:
        raise LoadError(
            f"{crm} export error:\n  - "
            + "\n  - ".join(problems)
            + "\nFix the files and land them again; nothing was landed."
        )
    landed = {}
    target_schema = quote_identifier(schema)
    if isinstance(destination, DuckDBDestination):
        # Named with its file's catalog: a file named like the schema
        # (pipedrive.duckdb) would make "pipedrive.stages" ambiguous.
        [(catalog,)] = destination.fetch("select current_database()")
        target_schema = f"{quote_identifier(catalog)}.{target_schema}"
    with destination.transaction():
        destination.execute(f"create schema if not exists {target_schema}")
        for table, (path, plan) in plans.items():
            # The required columns, under their own names (the others are left).
            columns = [
                column for column in plan["columns"] or [] if column in EXPORT_TABLES[crm][table]
            ]
            columns = columns or EXPORT_TABLES[crm][table]
            target = f"{target_schema}.{quote_identifier(table)}"
            destination.create_table(
                target, ", ".join(f"{c} varchar" for c in columns), replace=True
            )
            if plan.get("row_count"):
                destination.insert_read(
                    target,
                    columns,
                    f"select {', '.join(columns)} from read_csv($path, {plan['read_options']})",
                    {"path": str(path)},
                )
            landed[table] = plan.get("row_count") or 0
    return landed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("crm", choices=tuple(EXPORT_TABLES))
    parser.add_argument("--source", type=Path, required=True, help="the export folder")
    parser.add_argument("--warehouse", type=Path, required=True, help="the DuckDB file")
    parser.add_argument(
        "--schema", help="where the tables go (default: the CRM's name, as crm_schema)"
    )
    parser.add_argument("--input-encoding", choices=ENCODINGS, default="utf-8")
    args = parser.parse_args(argv)
    schema = args.schema or args.crm
    config = {"storage_compatibility_version": storage_version()}
    try:
        with duckdb.connect(str(args.warehouse), config=config) as connection:
            landed = land_export_tables(
                DuckDBDestination(connection), args.crm, args.source, schema, args.input_encoding
            )
    except LoadError as error:
        print(error, file=sys.stderr)
        return 1
    for table, rows in landed.items():
        print(f"{schema}.{table}: {rows:,} rows")
    print(f"Build with the vars crm: {args.crm}, crm_loader: export, crm_schema: {schema}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
