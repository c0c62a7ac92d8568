"""One lead history written as a CRM's own tables, the way each loader lands
them (column and table names of Fivetran, Airbyte, dlt), for the tests of
the CRM adapters (var crm). The generic raw pair (leads, stage changes, the
stage list) goes in; the CRM's tables come out, plus what real CRMs add
that the warehouse must leave out and count: deleted deals and history
rows, deals of another pipeline.

The tables go into a test project's warehouse, on DuckDB or PostgreSQL.
Every value is written as the text the generic history has (loaders type
their columns; the adapters read every column as text, so the same text
gives the same marts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb

# Each loader's name of each (table, column) the adapters read: Fivetran
# writes snake_case, Airbyte lower-cases the API's names.
SALESFORCE_NAMES = {
    "fivetran": {
        "opportunity": (
            "opportunity",
            {
                "id": "id",
                "created_date": "created_date",
                "lead_source": "lead_source",
                "type": "type",
                "owner_id": "owner_id",
                "amount": "amount",
                "record_type_id": "record_type_id",
                "is_deleted": "is_deleted",
            },
        ),
        "opportunity_history": (
            "opportunity_history",
            {
                "opportunity_id": "opportunity_id",
                "stage_name": "stage_name",
                "created_date": "created_date",
                "is_deleted": "is_deleted",
            },
        ),
        "opportunity_stage": (
            "opportunity_stage",
            {
                "api_name": "api_name",
                "master_label": "master_label",
                "sort_order": "sort_order",
                "is_won": "is_won",
                "is_closed": "is_closed",
                "is_active": "is_active",
            },
        ),
    },
}
SALESFORCE_NAMES["airbyte"] = {
    table.replace("_", ""): (name.replace("_", ""), {c: c.replace("_", "") for c in columns})
    for table, (name, columns) in SALESFORCE_NAMES["fivetran"].items()
}
SALESFORCE_RECORD_TYPE = "012000000000001AAA"
OTHER_RECORD_TYPE = "012000000000002AAA"


def slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_")


def api_name(stage: dict[str, str]) -> str:
    """The CRM's name of a generic stage: its name when that names its key
    (Closed won -> closed_won), else the key itself."""
    return (
        stage["stage_name"]
        if slug(stage["stage_name"]) == stage["stage_key"]
        else stage["stage_key"]
    )


@dataclass
class CrmTables:
    """Rows per table in the CRM's own terms (the Fivetran names), before a
    loader renames them."""

    tables: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    # What the adapter must leave out, per raw table and reason.
    left_out: dict[tuple[str, str], int] = field(default_factory=dict)

    def count(self, raw_table: str, reason: str, rows: int = 1) -> None:
        self.left_out[raw_table, reason] = self.left_out.get((raw_table, reason), 0) + rows


def salesforce_tables(
    leads: list[dict[str, str]],
    transitions: list[dict[str, str]],
    stages: list[dict[str, str]],
    *,
    deleted: int = 0,
    other_pipeline: int = 0,
    deleted_history_rows: int = 0,
) -> CrmTables:
    """The history as Salesforce holds it, plus `deleted` deleted
    opportunities and `other_pipeline` of another record type (each with a
    history copied from the first leads'), and `deleted_history_rows`
    deleted history rows of kept opportunities."""
    names = {stage["stage_key"]: api_name(stage) for stage in stages}
    crm = CrmTables()
    opportunities = [
        {
            "id": lead["lead_id"],
            "created_date": lead.get("created_at"),
            "lead_source": lead.get("lead_source"),
            "type": lead.get("segment"),
            "owner_id": lead.get("owner_id"),
            "amount": lead.get("deal_amount_usd"),
            "record_type_id": SALESFORCE_RECORD_TYPE,
            "is_deleted": "false",
        }
        for lead in leads
    ]
    history = [
        {
            "opportunity_id": change["lead_id"],
            "stage_name": names.get(change["stage_key"], change["stage_key"]),
            "created_date": change.get("entered_at"),
            "is_deleted": "false",
        }
        for change in transitions
    ]
    extras = [("deleted_deal", deleted), ("other_pipeline", other_pipeline)]
    for reason, how_many in extras:
        for number, lead in enumerate(leads[:how_many]):
            copy_id = f"{reason}_{number}"
            opportunity = next(o for o in opportunities if o["id"] == lead["lead_id"])
            opportunities.append(
                {
                    **opportunity,
                    "id": copy_id,
                    "is_deleted": "true" if reason == "deleted_deal" else "false",
                    "record_type_id": OTHER_RECORD_TYPE
                    if reason == "other_pipeline"
                    else SALESFORCE_RECORD_TYPE,
                }
            )
            crm.count("raw_leads", reason)
            copied = [
                {**row, "opportunity_id": copy_id}
                for row in history
                if row["opportunity_id"] == lead["lead_id"]
            ]
            history.extend(copied)
            crm.count("raw_lead_transitions", f"stage_change_of_{reason}", len(copied))
    for row in history[:deleted_history_rows]:
        history.append({**row, "is_deleted": "true", "stage_name": "Closed lost"})
        crm.count("raw_lead_transitions", "deleted_stage_change")
    stage_rows = []
    for position, stage in enumerate(stages, start=1):
        stage_rows.append(
            {
                "api_name": api_name(stage),
                "master_label": stage["stage_name"],
                "sort_order": str(
                    int(stage["stage_order"]) if stage["stage_order"] else 90 + position
                ),
                "is_won": str(stage["stage_type"] == "won").lower(),
                "is_closed": str(stage["stage_type"] in ("won", "lost")).lower(),
                "is_active": "true",
            }
        )
    crm.tables = {
        "opportunity": opportunities,
        "opportunity_history": history,
        "opportunity_stage": stage_rows,
    }
    return crm


def write_tables(project, schema: str, crm: CrmTables, names: dict) -> None:
    """The CRM's tables in the project's warehouse (DuckDB, or its
    PostgreSQL database), under the loader's names, every column as text."""
    statements = [f"create schema if not exists {schema}"]
    batches = []
    for table, rows in crm.tables.items():
        table_name, columns = names[_loader_key(table, names)]
        typed = ", ".join(f'"{columns[c]}" varchar' for c in columns)
        statements.append(f"drop table if exists {schema}.{table_name}")
        statements.append(f"create table {schema}.{table_name} ({typed})")
        values = [[_text(row.get(c)) for c in columns] for row in rows]
        batches.append((f"{schema}.{table_name}", len(columns), values))
    if project.target == "postgres":
        from sales_pipeline.engines import postgres_connection

        connection = postgres_connection(project.postgres_database)
        with connection, connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
            for table, width, values in batches:
                marks = ", ".join(["%s"] * width)
                cursor.executemany(f"insert into {table} values ({marks})", values)
        connection.close()
        return
    with duckdb.connect(str(project.database)) as connection:
        for statement in statements:
            connection.execute(statement)
        for table, width, values in batches:
            if values:
                marks = ", ".join("?" * width)
                connection.executemany(f"insert into {table} values ({marks})", values)


def _loader_key(table: str, names: dict) -> str:
    return table if table in names else table.replace("_", "")


def _text(value: object) -> str | None:
    return None if value in (None, "") else str(value)
