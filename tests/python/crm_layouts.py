"""One lead history written as a CRM's own tables, the way each loader lands
them (column and table names of Fivetran, Airbyte, dlt), for the tests of
the CRM adapters (var crm). The generic raw pair (leads, stage changes, the
stage list) goes in; the CRM's tables come out, plus what real CRMs add
that the warehouse must leave out and count: deleted deals and history
rows, deals of another pipeline. Or several real pipelines, each with its
own generic history (the `pipelines` argument, a list of Pipeline), which
the adapters read together when crm_pipeline is empty, their stage keys
prefixed (pipeline_stage_key).

The tables go into a test project's warehouse, on DuckDB or PostgreSQL.
Every value is written as the text the generic history has (loaders type
their columns; the adapters read every column as text, so the same text
gives the same marts).
"""

from __future__ import annotations

import datetime as dt
import json
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
                "currency_iso_code": "currency_iso_code",
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
        "dated_conversion_rate": (
            "dated_conversion_rate",
            {
                "iso_code": "iso_code",
                "conversion_rate": "conversion_rate",
                "start_date": "start_date",
                "next_start_date": "next_start_date",
            },
        ),
        # Optional: written only with several pipelines (its Name names each).
        "record_type": ("record_type", {"id": "id", "name": "name"}),
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


@dataclass
class Pipeline:
    """One real pipeline of a CRM for the layouts' `pipelines` argument: its
    id, its label (HubSpot's pipeline label, Salesforce's RecordType Name;
    Pipedrive lands no label: the adapter names it by its id) and its own
    generic history (the row dicts the layouts take: leads, stage changes,
    stage list). Lead ids must be unique across pipelines. A plain tuple
    (pipeline_id, label, leads, transitions, stages) works too."""

    pipeline_id: str
    label: str
    leads: list[dict[str, str]]
    transitions: list[dict[str, str]]
    stages: list[dict[str, str]]


def pipeline_stage_key(pipeline_name: str, stage_key: str) -> str:
    """A stage's key when an adapter reads several pipelines: the pipeline's
    name made a key (as stage_key_of), `__`, the stage's key (with one
    pipeline read the key stays plain). The pipeline's name is HubSpot's
    label, Salesforce's RecordType Name (or the record type id; Default for
    opportunities without one), Pipedrive's pipeline id."""
    return f"{slug(pipeline_name)}__{stage_key}"


def _check_several(
    pipelines, leads, transitions, stages, other_pipeline: int = 0
) -> list[Pipeline]:
    """The pipelines argument as Pipelines, given alone (not with the one
    history, nor with other_pipeline deals: every pipeline is read)."""
    if leads or transitions or stages:
        raise ValueError("give either leads, transitions and stages, or pipelines")
    if other_pipeline:
        raise ValueError("other_pipeline needs one pipeline read with crm_pipeline, not pipelines")
    if not pipelines:
        raise ValueError("pipelines: at least one")
    pipelines = [p if isinstance(p, Pipeline) else Pipeline(*p) for p in pipelines]
    seen: set[str] = set()
    for pipeline in pipelines:
        ids = {lead["lead_id"] for lead in pipeline.leads}
        if ids & seen:
            raise ValueError(f"pipelines: lead ids of {pipeline.pipeline_id} in another pipeline")
        seen |= ids
    if len({p.pipeline_id for p in pipelines}) != len(pipelines):
        raise ValueError("pipelines: two with one id")
    return pipelines


def salesforce_tables(
    leads: list[dict[str, str]] | None = None,
    transitions: list[dict[str, str]] | None = None,
    stages: list[dict[str, str]] | None = None,
    *,
    deleted: int = 0,
    other_pipeline: int = 0,
    deleted_history_rows: int = 0,
    currencies: dict[str, str] | None = None,
    dated_rates: list[dict[str, str]] | None = None,
    pipelines: list[Pipeline] | None = None,
) -> CrmTables:
    """The history as Salesforce holds it, plus `deleted` deleted
    opportunities and `other_pipeline` of another record type (each with a
    history copied from the first leads'), and `deleted_history_rows`
    deleted history rows of kept opportunities. currencies gives some
    opportunities a CurrencyIsoCode (the others have none), dated_rates the
    rows of DatedConversionRate.

    pipelines instead of leads, transitions and stages: several record
    types (Pipeline: the record type's id and Name, and its history), each
    opportunity of its pipeline's record type (pipeline id "default": no
    record type), and RecordType lists their names. Salesforce's stages are
    one org-wide list: every pipeline must give the same stages. deleted
    copies the first pipeline's leads; other_pipeline is not allowed."""
    record_types = []
    if pipelines is None:
        pipelines = [Pipeline(SALESFORCE_RECORD_TYPE, "", leads, transitions, stages)]
    else:
        pipelines = _check_several(pipelines, leads, transitions, stages, other_pipeline)
        stages = pipelines[0].stages
        if any(p.stages != stages for p in pipelines):
            raise ValueError("Salesforce's stages are one list: give every pipeline the same")
        record_types = [
            {"id": p.pipeline_id, "name": p.label} for p in pipelines if p.pipeline_id != "default"
        ]
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
            "currency_iso_code": (currencies or {}).get(lead["lead_id"]),
            "record_type_id": None if pipeline.pipeline_id == "default" else pipeline.pipeline_id,
            "is_deleted": "false",
        }
        for pipeline in pipelines
        for lead in pipeline.leads
    ]
    history = [
        {
            "opportunity_id": change["lead_id"],
            "stage_name": names.get(change["stage_key"], change["stage_key"]),
            "created_date": change.get("entered_at"),
            "is_deleted": "false",
        }
        for pipeline in pipelines
        for change in pipeline.transitions
    ]
    leads = pipelines[0].leads
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
                    else opportunity["record_type_id"],
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
        "dated_conversion_rate": dated_rates or [],
    }
    if record_types:
        crm.tables["record_type"] = record_types
    return crm


def write_tables(project, schema: str, crm: CrmTables, names: dict) -> None:
    """The CRM's tables in the project's warehouse (DuckDB, or its
    PostgreSQL database), under the loader's names, every column as text
    but those JSON_COLUMNS names (JSON, jsonb on PostgreSQL)."""
    statements = [f"create schema if not exists {schema}"]
    batches = []
    json_type = "jsonb" if project.target == "postgres" else "json"
    for table, rows in crm.tables.items():
        table_name, columns = names[_loader_key(table, names)]
        typed = ", ".join(
            f'"{columns[c]}" '
            + (json_type if (table_name, columns[c]) in JSON_COLUMNS else "varchar")
            for c in columns
        )
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


# --- HubSpot ---------------------------------------------------------------
# Each loader's names of the tables and columns the HubSpot adapter reads,
# keyed by Fivetran's: Fivetran (fivetran/dbt_hubspot_source
# src_hubspot.yml) writes deal properties as property_* columns; dlt's
# verified source hubspot writes each property under its own name, the
# record's id as id, a pipeline's stages as the child table
# pipelines_deals__stages, and has no merged_deal table. Airbyte
# (source-hubspot 6.0.1, its manifest.yaml schemas) flattens each property
# into properties_<name>, keeps the API's CamelCase (dealId, pipelineId)
# and nests a pipeline's stages in it as a JSON array (stages), no stage
# table and no merged_deal either.
HUBSPOT_NAMES = {
    "fivetran": {
        "deal": (
            "deal",
            {
                "deal_id": "deal_id",
                "property_createdate": "property_createdate",
                "property_hs_analytics_source": "property_hs_analytics_source",
                "property_dealtype": "property_dealtype",
                "owner_id": "owner_id",
                "property_amount": "property_amount",
                "deal_pipeline_id": "deal_pipeline_id",
                "is_deleted": "is_deleted",
            },
        ),
        "deal_property_history": (
            "deal_property_history",
            {"deal_id": "deal_id", "name": "name", "value": "value", "timestamp": "timestamp"},
        ),
        "deal_pipeline": ("deal_pipeline", {"pipeline_id": "pipeline_id", "label": "label"}),
        "deal_pipeline_stage": (
            "deal_pipeline_stage",
            {
                "stage_id": "stage_id",
                "pipeline_id": "pipeline_id",
                "label": "label",
                "display_order": "display_order",
                "probability": "probability",
                "closed_won": "closed_won",
            },
        ),
        "merged_deal": ("merged_deal", {"deal_id": "deal_id", "merged_deal_id": "merged_deal_id"}),
    },
    "dlt": {
        "deal": (
            "deals",
            {
                "deal_id": "id",
                "property_createdate": "createdate",
                "property_hs_analytics_source": "hs_analytics_source",
                "property_dealtype": "dealtype",
                "owner_id": "hubspot_owner_id",
                "property_amount": "amount",
                "deal_pipeline_id": "pipeline",
                "is_deleted": "is_deleted",
                "hs_merged_object_ids": "hs_merged_object_ids",
            },
        ),
        "deal_property_history": (
            "deals_property_history",
            {
                "deal_id": "object_id",
                "name": "property_name",
                "value": "value",
                "timestamp": "timestamp",
            },
        ),
        "deal_pipeline": (
            "pipelines_deals",
            {"pipeline_id": "id", "label": "label", "_dlt_id": "_dlt_id"},
        ),
        "deal_pipeline_stage": (
            "pipelines_deals__stages",
            {
                "stage_id": "id",
                "label": "label",
                "display_order": "display_order",
                "probability": "metadata__probability",
                "is_closed": "metadata__is_closed",
                "_dlt_parent_id": "_dlt_parent_id",
            },
        ),
    },
    "airbyte": {
        "deal": (
            "deals",
            {
                "deal_id": "id",
                "property_createdate": "properties_createdate",
                "property_hs_analytics_source": "properties_hs_analytics_source",
                "property_dealtype": "properties_dealtype",
                "owner_id": "properties_hubspot_owner_id",
                "property_amount": "properties_amount",
                "deal_pipeline_id": "properties_pipeline",
                "is_deleted": "archived",
                "hs_merged_object_ids": "properties_hs_merged_object_ids",
            },
        ),
        "deal_property_history": (
            "deals_property_history",
            {"deal_id": "dealId", "name": "property", "value": "value", "timestamp": "timestamp"},
        ),
        "deal_pipeline": (
            "deal_pipelines",
            {"pipeline_id": "pipelineId", "label": "label", "stages": "stages"},
        ),
    },
}
# Columns a loader lands as JSON (Airbyte: jsonb on PostgreSQL, JSON on
# DuckDB), per (table, column) of its names; every other column is text.
JSON_COLUMNS = {("deal_pipelines", "stages")}
# The pipeline the marts describe, and a second one with the same stage labels.
HUBSPOT_PIPELINE = "default"
OTHER_HUBSPOT_PIPELINE = "98765"


def hubspot_tables(
    leads: list[dict[str, str]] | None = None,
    transitions: list[dict[str, str]] | None = None,
    stages: list[dict[str, str]] | None = None,
    *,
    deleted: int = 0,
    merged: int = 0,
    other_pipeline: int = 0,
    pipelines: list[Pipeline] | None = None,
) -> CrmTables:
    """The history as HubSpot holds it in pipeline HUBSPOT_PIPELINE, plus
    `deleted` deleted deals, `merged` deals merged into the first leads'
    (stale copies of them), and `other_pipeline` deals of a second pipeline
    whose stages have the same labels; each with the history of one of the
    first leads. Stage changes are dealstage rows whose value is a stage id
    (a key the stage list lacks is written as it is); a few amount changes
    are there too, which the adapter does not read.

    pipelines instead of leads, transitions and stages: several real
    pipelines (Pipeline: id, label, and its own generic history), each
    deal in its pipeline, each pipeline with its stages (ids 100.., 200..,
    ...); deleted and merged copy the first pipeline's leads;
    other_pipeline is not allowed (every pipeline is read)."""
    if pipelines is None:
        pipelines = [Pipeline(HUBSPOT_PIPELINE, "Sales pipeline", leads, transitions, stages)]
        # The second pipeline: the first's stage labels, the other_pipeline deals.
        extra_pipelines = [(OTHER_HUBSPOT_PIPELINE, "Renewals", stages)]
    else:
        pipelines = _check_several(pipelines, leads, transitions, stages, other_pipeline)
        extra_pipelines = []
    crm = CrmTables()
    all_pipelines = [(p.pipeline_id, p.label, p.stages) for p in pipelines] + extra_pipelines
    stage_ids = {
        pipeline: {stage["stage_key"]: f"{base + n}" for n, stage in enumerate(its_stages)}
        for base, (pipeline, _, its_stages) in zip(
            range(100, 100 * (len(all_pipelines) + 1), 100), all_pipelines, strict=True
        )
    }

    def history_of(changes, pipeline, deal_id=None):
        return [
            {
                "deal_id": deal_id or change["lead_id"],
                "name": "dealstage",
                "value": stage_ids[pipeline].get(change["stage_key"], change["stage_key"]),
                "timestamp": change.get("entered_at"),
            }
            for change in changes
        ]

    deals, history = [], []
    for pipeline in pipelines:
        deals += [
            {
                "deal_id": lead["lead_id"],
                "property_createdate": lead.get("created_at"),
                "property_hs_analytics_source": lead.get("lead_source"),
                "property_dealtype": lead.get("segment"),
                "owner_id": lead.get("owner_id"),
                "property_amount": lead.get("deal_amount_usd"),
                "deal_pipeline_id": pipeline.pipeline_id,
                "is_deleted": "false",
                "hs_merged_object_ids": None,
            }
            for lead in pipeline.leads
        ]
        history += history_of(pipeline.transitions, pipeline.pipeline_id)
    first = pipelines[0]
    history += [
        {"deal_id": lead["lead_id"], "name": "amount", "value": "1", "timestamp": "2025-01-01"}
        for lead in first.leads[:5]
    ]
    merges = []
    extras = [
        ("deleted_deal", deleted),
        ("merged_deal", merged),
        ("other_pipeline", other_pipeline),
    ]
    for reason, how_many in extras:
        for number, lead in enumerate(first.leads[:how_many]):
            copy_id = f"{reason}_{number}"
            deal = next(d for d in deals if d["deal_id"] == lead["lead_id"])
            pipeline = OTHER_HUBSPOT_PIPELINE if reason == "other_pipeline" else first.pipeline_id
            deals.append(
                {
                    **deal,
                    "deal_id": copy_id,
                    "is_deleted": str(reason == "deleted_deal").lower(),
                    "deal_pipeline_id": pipeline,
                    "hs_merged_object_ids": None,
                }
            )
            crm.count("raw_leads", reason)
            if reason == "merged_deal":
                merges.append({"deal_id": deal["deal_id"], "merged_deal_id": copy_id})
                listed = deal["hs_merged_object_ids"]
                deal["hs_merged_object_ids"] = f"{listed};{copy_id}" if listed else copy_id
            changes = [c for c in first.transitions if c["lead_id"] == lead["lead_id"]]
            history += history_of(changes, pipeline, copy_id)
            crm.count("raw_lead_transitions", f"stage_change_of_{reason}", len(changes))
    pipeline_rows, stage_rows = [], []
    for pipeline_number, (pipeline, label, its_stages) in enumerate(all_pipelines):
        rows = []
        for position, stage in enumerate(its_stages, start=1):
            kind = stage["stage_type"]
            rows.append(
                {
                    "stage_id": stage_ids[pipeline][stage["stage_key"]],
                    "pipeline_id": pipeline,
                    "label": api_name(stage),
                    "display_order": stage["stage_order"] or str(90 + position),
                    # open stages: 0.1 .. 0.9, never 0 (Fivetran reads 0 as lost)
                    "probability": {"won": "1.0", "lost": "0.0"}.get(kind, f"0.{position % 9 + 1}"),
                    "closed_won": str(kind == "won").lower(),
                    "is_closed": str(kind in ("won", "lost")).lower(),
                    "_dlt_parent_id": f"p{pipeline_number}",
                }
            )
        stage_rows += rows
        pipeline_rows.append(
            {
                "pipeline_id": pipeline,
                "label": label,
                "_dlt_id": f"p{pipeline_number}",
                "stages": airbyte_stages(rows),
            }
        )
    crm.tables = {
        "deal": deals,
        "deal_property_history": history,
        "deal_pipeline": pipeline_rows,
        "deal_pipeline_stage": stage_rows,
        "merged_deal": merges,
    }
    return crm


def airbyte_stages(rows: list[dict[str, str]]) -> str:
    """A pipeline's stages as HubSpot's pipelines API returns them and
    Airbyte lands them in deal_pipelines.stages: a JSON array of objects,
    displayOrder a number, metadata's isClosed and probability text."""
    return json.dumps(
        [
            {
                "stageId": row["stage_id"],
                "label": row["label"],
                "displayOrder": int(row["display_order"]),
                "metadata": {"isClosed": row["is_closed"], "probability": row["probability"]},
                "active": True,
            }
            for row in rows
        ]
    )


def loader_tables(crm: CrmTables, names: dict) -> CrmTables:
    """The tables a loader writes (dlt and Airbyte have no merged_deal,
    Airbyte no stage table)."""
    return CrmTables({t: rows for t, rows in crm.tables.items() if t in names}, crm.left_out)


# --------------------------------------------------------------------------- pipedrive
# dlt's verified Pipedrive source (deals, stages, deals_flow_deal_change) and
# an export's files landed as tables (deal_changes, stages; no deals table).
PIPEDRIVE_NAMES = {
    "dlt": {
        "deals": (
            "deals",
            {
                c: c
                for c in (
                    "id",
                    "add_time",
                    "user_id",
                    "value",
                    "currency",
                    "pipeline_id",
                    "status",
                    "deleted",
                )
            },
        ),
        "deals_flow_deal_change": (
            "deals_flow_deal_change",
            {c: c for c in ("id", "item_id", "field_key", "old_value", "new_value", "log_time")},
        ),
        "stages": ("stages", {c: c for c in ("id", "name", "order_nr", "pipeline_id")}),
    },
    "export": {
        "deal_changes": (
            "deal_changes",
            {c: c for c in ("deal_id", "change_time", "changed_field_key", "new_value")},
        ),
        "stages": ("stages", {c: c for c in ("stage_id", "stage_name")}),
    },
}
PIPEDRIVE_PIPELINE = "1"
OTHER_PIPELINE = "2"


def pipedrive_tables(
    leads: list[dict[str, str]] | None = None,
    transitions: list[dict[str, str]] | None = None,
    stages: list[dict[str, str]] | None = None,
    loader: str = "dlt",
    *,
    deleted: int = 0,
    other_pipeline: int = 0,
    pipelines: list[Pipeline] | None = None,
) -> CrmTables:
    """The history as Pipedrive holds it (its won and lost stages keyed won
    and lost). dlt: deals, stages of pipeline 1 (the won and lost stages are
    deal statuses, not stages) and the change log, plus `deleted` deleted
    deals and `other_pipeline` deals of pipeline 2 (with its own stages),
    each with the changes of one of the first leads, and a value change per
    deal (not a stage change: neither read nor counted). export: the change
    log (add_time, user_id, stage_id, lost_reason) and the stages up to the
    won stage; no deal table, no amount.

    pipelines instead of leads, transitions and stages (dlt only: an
    export has one pipeline): several pipelines (Pipeline: its id, a label
    Pipedrive's tables do not hold, its history with won and lost keyed won
    and lost), each deal in its pipeline, each pipeline with its stages
    (pipeline n's ids n10, n11, ...); deleted copies the first pipeline's
    leads; other_pipeline is not allowed."""
    if pipelines is not None:
        if loader != "dlt":
            raise ValueError("several pipelines: dlt only (an export has one pipeline)")
        pipelines = _check_several(pipelines, leads, transitions, stages, other_pipeline)
        return _pipedrive_pipelines(pipelines, deleted)
    open_stages = [s for s in stages if s["stage_type"] == "open"]
    won = next(s for s in stages if s["stage_type"] == "won")
    if (won["stage_key"], next(s for s in stages if s["stage_type"] == "lost")["stage_key"]) != (
        "won",
        "lost",
    ):
        raise ValueError("Pipedrive's won and lost stages are keyed won and lost")
    ordered = sorted(open_stages, key=lambda s: int(s["stage_order"]))
    if loader == "export":
        ordered.append(won)
    ids = {stage["stage_key"]: str(10 + number) for number, stage in enumerate(ordered)}
    crm = CrmTables()
    by_lead: dict[str, list[dict[str, str]]] = {}
    for change in sorted(transitions, key=_instant):
        by_lead.setdefault(change["lead_id"], []).append(change)

    def stage_value(key: str) -> str:
        return ids.get(slug(key), key)

    if loader == "export":
        changes = []
        for lead in leads:
            at = lead.get("created_at")
            changes.append(_export_change(lead["lead_id"], at, "add_time", at))
            if lead.get("owner_id"):
                changes.append(_export_change(lead["lead_id"], at, "user_id", lead["owner_id"]))
        for change in transitions:
            lost = slug(change["stage_key"]) == "lost"
            changes.append(
                _export_change(
                    change["lead_id"],
                    change.get("entered_at"),
                    "lost_reason" if lost else "stage_id",
                    "1" if lost else stage_value(change["stage_key"]),
                )
            )
        crm.tables = {
            "deal_changes": changes,
            "stages": [
                {"stage_id": ids[s["stage_key"]], "stage_name": api_name(s)} for s in ordered
            ],
        }
        return crm

    def deal_changes(deal_id: str, history: list[dict[str, str]]) -> list[dict[str, str]]:
        return _pipedrive_deal_changes(deal_id, history, stage_value)

    deals = [
        {
            "id": lead["lead_id"],
            "add_time": lead.get("created_at"),
            "user_id": lead.get("owner_id"),
            "value": lead.get("deal_amount_usd"),
            "currency": "USD",
            "pipeline_id": PIPEDRIVE_PIPELINE,
            "status": "open",
            "deleted": "false",
        }
        for lead in leads
    ]
    changes = [
        row for lead_id, history in by_lead.items() for row in deal_changes(lead_id, history)
    ]
    changes += [_dlt_change(deal["id"], "value", "1000", deal["add_time"]) for deal in deals[:20]]
    stage_rows = [
        {
            "id": ids[s["stage_key"]],
            "name": api_name(s),
            "order_nr": s["stage_order"],
            "pipeline_id": PIPEDRIVE_PIPELINE,
        }
        for s in ordered
    ]
    # Pipeline 2: its own stages (ids 9xx), its deals' changes move through them.
    other_ids = {key: f"9{value}" for key, value in ids.items()}
    stage_rows += [
        {**row, "id": other_ids[s["stage_key"]], "name": f"Other {row['name']}", "pipeline_id": "2"}
        for row, s in zip(list(stage_rows), ordered, strict=True)
    ]
    extras = [("deleted_deal", deleted), ("other_pipeline", other_pipeline)]
    for reason, how_many in extras:
        for number, lead in enumerate(leads[:how_many]):
            copy_id = f"{reason}_{number}"
            deal = next(d for d in deals if d["id"] == lead["lead_id"])
            deals.append(
                {
                    **deal,
                    "id": copy_id,
                    # Deleted: by the flag, or (every other one) by status only.
                    "deleted": "true" if reason == "deleted_deal" and number % 2 == 0 else "false",
                    "status": "deleted" if reason == "deleted_deal" else "open",
                    "pipeline_id": OTHER_PIPELINE
                    if reason == "other_pipeline"
                    else PIPEDRIVE_PIPELINE,
                }
            )
            crm.count("raw_leads", reason)
            copied = deal_changes(copy_id, by_lead.get(lead["lead_id"], []))
            if reason == "other_pipeline":
                for row in copied:
                    if row["field_key"] == "stage_id":
                        row["new_value"] = other_ids.get(
                            next((k for k, v in ids.items() if v == row["new_value"]), ""),
                            row["new_value"],
                        )
            changes.extend(copied)
            reads = sum(
                not (
                    row["field_key"] == "status"
                    and row["new_value"] == "open"
                    and any(
                        o["field_key"] == "stage_id" and o["log_time"] == row["log_time"]
                        for o in copied
                    )
                )
                for row in copied
            )
            crm.count("raw_lead_transitions", f"stage_change_of_{reason}", reads)
    for number, row in enumerate(changes, start=1):
        row["id"] = str(number)
    crm.tables = {"deals": deals, "deals_flow_deal_change": changes, "stages": stage_rows}
    return crm


def _pipedrive_deal_changes(
    deal_id: str, history: list[dict[str, str]], stage_value
) -> list[dict[str, str]]:
    """A deal's generic history as dlt's change log rows: stage_id changes,
    won and lost as status changes, a reopen as status open (and a stage_id
    change when it re-enters another stage); stage_value gives a stage
    key's id."""
    rows, stage_before_close, closed, written = [], None, False, {}
    for change in history:
        key, at = slug(change["stage_key"]), change.get("entered_at")
        if (key, at) in written:  # an exact repeat: the row that is read, again
            rows.append(dict(written[key, at]))
            continue
        if key in ("won", "lost"):
            rows.append(_dlt_change(deal_id, "status", key, at))
            closed = True
        elif closed:  # reopened: back to its stage, or to another at the same time
            rows.append(_dlt_change(deal_id, "status", "open", at))
            closed = False
            if key != stage_before_close:
                rows.append(_dlt_change(deal_id, "stage_id", stage_value(key), at))
        else:
            rows.append(_dlt_change(deal_id, "stage_id", stage_value(change["stage_key"]), at))
        if key not in ("won", "lost"):
            stage_before_close = key
        written[key, at] = rows[-1]
    return rows


def _pipedrive_pipelines(pipelines: list[Pipeline], deleted: int) -> CrmTables:
    """pipedrive_tables with several pipelines (dlt's layout)."""
    crm = CrmTables()
    deals, changes, stage_rows = [], [], []
    for number, pipeline in enumerate(pipelines, start=1):
        its = pipeline.stages
        keys = (
            next(s["stage_key"] for s in its if s["stage_type"] == "won"),
            next(s["stage_key"] for s in its if s["stage_type"] == "lost"),
        )
        if keys != ("won", "lost"):
            raise ValueError("Pipedrive's won and lost stages are keyed won and lost")
        ordered = sorted(
            (s for s in its if s["stage_type"] == "open"), key=lambda s: int(s["stage_order"])
        )
        ids = {stage["stage_key"]: f"{number}{10 + n}" for n, stage in enumerate(ordered)}

        def stage_value(key: str, ids=ids) -> str:
            return ids.get(slug(key), key)

        stage_rows += [
            {
                "id": ids[s["stage_key"]],
                "name": api_name(s),
                "order_nr": s["stage_order"],
                "pipeline_id": pipeline.pipeline_id,
            }
            for s in ordered
        ]
        deals += [
            {
                "id": lead["lead_id"],
                "add_time": lead.get("created_at"),
                "user_id": lead.get("owner_id"),
                "value": lead.get("deal_amount_usd"),
                "currency": "USD",
                "pipeline_id": pipeline.pipeline_id,
                "status": "open",
                "deleted": "false",
            }
            for lead in pipeline.leads
        ]
        by_lead: dict[str, list[dict[str, str]]] = {}
        for change in sorted(pipeline.transitions, key=_instant):
            by_lead.setdefault(change["lead_id"], []).append(change)
        changes += [
            row
            for lead_id, history in by_lead.items()
            for row in _pipedrive_deal_changes(lead_id, history, stage_value)
        ]
        if number == 1:
            for copy_number, lead in enumerate(pipeline.leads[:deleted]):
                copy_id = f"deleted_deal_{copy_number}"
                deal = next(d for d in deals if d["id"] == lead["lead_id"])
                deals.append({**deal, "id": copy_id, "deleted": "true", "status": "deleted"})
                crm.count("raw_leads", "deleted_deal")
                copied = _pipedrive_deal_changes(
                    copy_id, by_lead.get(lead["lead_id"], []), stage_value
                )
                changes.extend(copied)
                crm.count("raw_lead_transitions", "stage_change_of_deleted_deal", _reads(copied))
    for number, row in enumerate(changes, start=1):
        row["id"] = str(number)
    crm.tables = {"deals": deals, "deals_flow_deal_change": changes, "stages": stage_rows}
    return crm


def _reads(copied: list[dict[str, str]]) -> int:
    """The change log rows the adapter reads as stage changes: all but a
    reopen at the moment a stage_id change moves the deal."""
    return sum(
        not (
            row["field_key"] == "status"
            and row["new_value"] == "open"
            and any(
                o["field_key"] == "stage_id" and o["log_time"] == row["log_time"] for o in copied
            )
        )
        for row in copied
    )


def _instant(change: dict[str, str]) -> tuple[bool, dt.datetime]:
    """When a change happened, in UTC, as staging reads it; unparseable last."""
    try:
        at = dt.datetime.fromisoformat(change.get("entered_at") or "")
    except ValueError:
        return True, dt.datetime.min
    return False, (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).replace(
        tzinfo=None
    )


def _dlt_change(deal_id: str, field_key: str, new_value: str, at: str | None) -> dict[str, str]:
    return {
        "item_id": deal_id,
        "field_key": field_key,
        "old_value": None,
        "new_value": new_value,
        "log_time": at,
    }


def _export_change(deal_id: str, at: str | None, key: str, value: str | None) -> dict[str, str]:
    return {"deal_id": deal_id, "change_time": at, "changed_field_key": key, "new_value": value}


def without_reopen_and_move_at_once(transitions: list[dict[str, str]]) -> list[dict[str, str]]:
    """The history less each reopen into the stage a deal was in before it
    closed that a move to another stage follows in the same instant: in
    Pipedrive that is one change (status open and stage_id together), the
    adapter reads the move only."""
    by_lead: dict[str, list[dict[str, str]]] = {}
    for change in sorted(transitions, key=_instant):
        by_lead.setdefault(change["lead_id"], []).append(change)
    dropped = set()
    for history in by_lead.values():
        before_close, closed = None, False
        for position, change in enumerate(history):
            key = slug(change["stage_key"])
            if key in ("won", "lost"):
                closed = True
                continue
            following = history[position + 1 : position + 2]
            if (
                closed
                and key == before_close
                and following
                and _instant(following[0]) == _instant(change)
                and not _instant(change)[0]
            ):
                dropped.add(id(change))
            closed, before_close = False, key
    return [change for change in transitions if id(change) not in dropped]
