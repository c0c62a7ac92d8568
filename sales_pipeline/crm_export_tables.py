"""Land a CRM's own export files as the tables its adapter reads.

Usage::

    python -m sales_pipeline.crm_export_tables pipedrive --source <export folder> \\
        --warehouse warehouse/crm.duckdb [--schema pipedrive]
    python -m sales_pipeline.crm_export_tables salesforce --source <extract folder> \\
        --warehouse warehouse/crm.duckdb [--schema salesforce]

then build with the CRM's adapter (docs/own-data.md, "Real CRM exports"),
which does the mapping; every file is checked like an export file
(delimiter, encoding, required columns, readable lines) and all of a CRM's
tables land in one transaction: a broken file lands nothing. The files
stay where they are.

Pipedrive (``deal_changes.csv`` + ``stages.csv``): each file is copied into
a table of the same name, its required columns as text. Build with
``crm: pipedrive``, ``crm_loader: export`` and ``crm_schema`` set to the
schema; the adapter reads won and lost from the change log and leaves the
post-sale stages out, counted (models/staging/pipedrive).

Salesforce (``Opportunity.csv`` + ``Opportunity History.csv``, an extract
such as Preppin' Data 2022 week 23): no loader's layout (it has no
OpportunityStage), so the command lands it as Airbyte lands Salesforce,
every column text: ``opportunity`` (id, createddate, leadsource, type,
ownerid, amount, isdeleted of Opportunity.csv; recordtypeid empty: the
extract names no record type, one pipeline), ``opportunityhistory``
(opportunityid = OppID, stagename, createddate; isdeleted false) and
``opportunitystage``, derived: one row per StageName of the history
(trimmed, in any case; apiname = masterlabel = StageName, sortorder =
SortOrder; a stage with two SortOrders stops the landing), ``Closed Won``
won and closed, ``Closed Lost`` closed, by name in any case, every stage
active. Dates stay as written (dd/mm/yyyy): build with ``crm: salesforce``,
``crm_loader: airbyte``, ``crm_schema`` set to the schema and
``input_timestamp_format: '%d/%m/%Y'``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from sales_pipeline.export_files import ENCODINGS, inspect_file, quote_identifier
from sales_pipeline.load import DuckDBDestination, LoadError, storage_version

# Per CRM, the export files it lands and the columns each must have, as
# inspect_file names them (the header's name trimmed and lower-cased).
EXPORT_FILES = {
    "pipedrive": {
        "deal_changes.csv": ["deal_id", "change_time", "changed_field_key", "new_value"],
        "stages.csv": ["stage_id", "stage_name"],
    },
    "salesforce": {
        "Opportunity.csv": [
            "id",
            "createddate",
            "leadsource",
            "type",
            "ownerid",
            "amount",
            "isdeleted",
        ],
        "Opportunity History.csv": ["oppid", "stagename", "createddate", "sortorder"],
    },
}

# Pipedrive: each file is its table (models/staging/pipedrive/_pipedrive__sources.yml).
PIPEDRIVE_TABLES = {"deal_changes.csv": "deal_changes", "stages.csv": "stages"}

# Salesforce: each file lands first in a temporary table, of these names;
# the adapter's Airbyte tables (models/staging/salesforce/_salesforce__sources.yml)
# are then selected from them, each column as this SQL expression over the
# temporary tables' columns (fixed text: nothing of a file goes into it).
SALESFORCE_LANDING = {
    "Opportunity.csv": "landing_salesforce_opportunity",
    "Opportunity History.csv": "landing_salesforce_opportunity_history",
}
SALESFORCE_WON = "Closed Won"
SALESFORCE_LOST = "Closed Lost"
SALESFORCE_TABLES = {
    "opportunity": (
        "landing_salesforce_opportunity",
        {
            "id": "id",
            "createddate": "createddate",
            "leadsource": "leadsource",
            "type": "type",
            "ownerid": "ownerid",
            "amount": "amount",
            "recordtypeid": "cast(null as varchar)",
            "isdeleted": "isdeleted",
        },
    ),
    "opportunityhistory": (
        "landing_salesforce_opportunity_history",
        {
            "opportunityid": "oppid",
            "stagename": "stagename",
            "createddate": "createddate",
            "isdeleted": "'false'",
        },
    ),
    "opportunitystage": (
        # One row per stage, its name compared trimmed and in any case (the
        # adapter keys it so); stage_order_conflicts stops two SortOrders.
        "(select min(trim(stagename)) as stagename, min(trim(sortorder)) as sortorder"
        " from landing_salesforce_opportunity_history group by lower(trim(stagename)))",
        {
            "apiname": "stagename",
            "masterlabel": "stagename",
            "sortorder": "sortorder",
            "iswon": f"case when lower(stagename) = '{SALESFORCE_WON.lower()}'"
            " then 'true' else 'false' end",
            "isclosed": (
                f"case when lower(stagename) in ('{SALESFORCE_WON.lower()}',"
                f" '{SALESFORCE_LOST.lower()}') then 'true' else 'false' end"
            ),
            "isactive": "'true'",
        },
    ),
}
# A stage's SortOrder as each history row recorded it: two values (an admin
# reordered the stages) leave the stage's place unknown, since the extract
# has no OpportunityStage to say which is current.
STAGE_ORDERS = (
    "select distinct trim(stagename), trim(sortorder) from landing_salesforce_opportunity_history"
)


def stage_order_conflicts(rows: list[tuple[str, str]]) -> list[str]:
    """The stages (name, SortOrders) of the history with more than one SortOrder."""
    orders: dict[str, set[str]] = {}
    spellings: dict[str, set[str]] = {}
    for name, order in rows:
        key = (name or "").lower()
        spellings.setdefault(key, set()).add(name or "")
        orders.setdefault(key, set()).add(order or "")
    return [
        f"StageName {' / '.join(map(repr, sorted(spellings[key])))}"
        f" has SortOrder {', '.join(sorted(values))}"
        for key, values in sorted(orders.items())
        if len(values) > 1
    ]


LOADER = {"pipedrive": "export", "salesforce": "airbyte"}
BUILD_VARS = {"salesforce": ", input_timestamp_format: '%d/%m/%Y'"}


def inspect_export(crm: str, source: Path, encoding: str) -> dict[str, tuple[Path, dict]]:
    """Each export file's path and read plan; raises LoadError naming every
    problem of every file."""
    plans, problems = {}, []
    for name, required in EXPORT_FILES[crm].items():
        path = source / name
        plan = inspect_file(str(path), "csv", required, encoding)
        problems += [f"{path} {problem}" for problem in plan["problems"]]
        plans[name] = (path, plan)
    if problems:
        raise LoadError(
            f"{crm} export error:\n  - "
            + "\n  - ".join(problems)
            + "\nFix the files and land them again; nothing was landed."
        )
    return plans


def land_file(destination, target: str, required: list[str], path: Path, plan: dict) -> int:
    """Creates <target> with the file's required columns as text (under their
    own names, in the file's order) and copies the file's rows into it."""
    # The required columns, under their own names (the others are left).
    columns = [column for column in plan.get("columns") or [] if column in required] or required
    if plan.get("row_count"):
        destination.insert_read(
            target,
            columns,
            f"select {', '.join(columns)} from read_csv($path, {plan['read_options']})",
            {"path": str(path)},
        )
    return plan.get("row_count") or 0


def land_export_tables(
    destination, crm: str, source: Path, schema: str, encoding: str = "utf-8"
) -> dict[str, int]:
    """Lands the CRM's export files in <source> as the tables its adapter
    reads, in <schema> (a DuckDBDestination or PostgresDestination); returns
    the rows landed per table. Raises LoadError naming every problem,
    having landed nothing."""
    plans = inspect_export(crm, source, encoding)
    landed = {}
    target_schema = quote_identifier(schema)
    if isinstance(destination, DuckDBDestination):
        # Named with its file's catalog: a file named like the schema
        # (pipedrive.duckdb) would make "pipedrive.stages" ambiguous.
        [(catalog,)] = destination.fetch("select current_database()")
        target_schema = f"{quote_identifier(catalog)}.{target_schema}"
    with destination.transaction():
        destination.execute(f"create schema if not exists {target_schema}")
        if crm == "pipedrive":
            for name, (path, plan) in plans.items():
                target = f"{target_schema}.{quote_identifier(PIPEDRIVE_TABLES[name])}"
                required = EXPORT_FILES[crm][name]
                destination.create_table(
                    target, ", ".join(f"{c} varchar" for c in required), replace=True
                )
                landed[PIPEDRIVE_TABLES[name]] = land_file(
                    destination, target, required, path, plan
                )
        else:
            landed = land_salesforce(destination, plans, target_schema)
    return landed


def land_salesforce(destination, plans: dict, target_schema: str) -> dict[str, int]:
    """The extract's files into temporary tables, the adapter's Airbyte
    tables selected from them, the temporary tables dropped (inside the
    caller's transaction)."""
    landed = {}
    for name, (path, plan) in plans.items():
        temporary = SALESFORCE_LANDING[name]
        required = EXPORT_FILES["salesforce"][name]
        # Temporary: the transaction's rollback drops it too.
        destination.execute(
            f"create temporary table {temporary} ({', '.join(f'{c} varchar' for c in required)})"
        )
        land_file(destination, temporary, required, path, plan)
    conflicts = stage_order_conflicts(destination.fetch(STAGE_ORDERS))
    if conflicts:
        raise LoadError(
            "salesforce export error: a stage's place in the pipeline is unknown:\n  - "
            + "\n  - ".join(conflicts)
            + "\nThe history recorded two orders of a stage (an admin reordered the stages)."
            " Land the org's OpportunityStage with your loader instead, or fix SortOrder"
            " in the history to the current order; nothing was landed."
        )
    for table, (source, columns) in SALESFORCE_TABLES.items():
        target = f"{target_schema}.{quote_identifier(table)}"
        selected = ", ".join(
            f"cast({expression} as varchar) as {column}" for column, expression in columns.items()
        )
        destination.execute(f"drop table if exists {target}")
        destination.execute(f"create table {target} as select {selected} from {source} as landed")
        [(landed[table],)] = destination.fetch(f"select count(*) from {target}")
    for temporary in SALESFORCE_LANDING.values():
        destination.execute(f"drop table {temporary}")
    return landed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="pipedrive: each file lands as the table of its name (crm_loader: export). "
        "salesforce: the extract is no loader's layout; it lands as Airbyte lands "
        "Salesforce (opportunity, opportunityhistory, and opportunitystage derived from "
        "the history's StageName and SortOrder, Closed Won won and Closed Won/Closed Lost "
        "closed by name; crm_loader: airbyte); dates stay as written, so build with "
        "input_timestamp_format: '%d/%m/%Y'. See docs/own-data.md, Real CRM exports.",
    )
    parser.add_argument("crm", choices=tuple(EXPORT_FILES))
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
    print(
        f"Build with the vars crm: {args.crm}, crm_loader: {LOADER[args.crm]}, "
        f"crm_schema: {schema}{BUILD_VARS.get(args.crm, '')}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
