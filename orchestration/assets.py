"""Every dbt seed and model as a Dagster asset, grouped by layer; dbt data
tests arrive as asset checks on their models. Each run builds a copy of the
warehouse and publishes it only when the whole run succeeds; a run with
other inputs than the published warehouse's, or after a loaded export file
changed, starts from an empty copy (sales_pipeline.publish).

The tables the loader lands (the dbt sources crm and config_files) are
assets of their own, upstream of the dbt assets, in group "loading". The
load runs first in each warehouse run, in the same copy as the models, so
that a failed build publishes none of it; it reports each table it wrote
as a materialization, with the files and rows landed."""

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetMaterialization,
    AssetSpec,
    Config,
    ConfigurableResource,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DbtCliInvocation,
    DbtCliResource,
    dbt_assets,
    get_asset_key_for_model,
)
from pydantic import Field, create_model

from orchestration.project import history_start, pipeline_project
from sales_pipeline.build_inputs import INPUT_VARS, BuildInputs
from sales_pipeline.dashboard import MARTS_READ, build_dashboard
from sales_pipeline.dbt_args import refresh_args
from sales_pipeline.publish import building_copy, published_warehouse

# The dbt sources the loader writes (sales_pipeline.load): crm_exports and
# config_files in the warehouse, under the names of their dbt sources.
LOADED_SOURCES = ("crm", "config_files")


class LayerTranslator(DagsterDbtTranslator):
    """Groups assets by warehouse layer: raw, config, staging, intermediate, marts."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        # fqn is [project, folder, ..., name]: the first folder is the layer.
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "default"


class _PipelineInputs(ConfigurableResource):
    def build_inputs(self) -> BuildInputs:
        return BuildInputs(**{name: getattr(self, name) for name in INPUT_VARS})

    @classmethod
    def from_env(cls) -> "PipelineInputs":
        return cls(**asdict(BuildInputs.from_env()))


# What the warehouse reads, as a Dagster resource: the fields of
# BuildInputs (their defaults from the PIPELINE_* env vars at start-up).
PipelineInputs = create_model(
    "PipelineInputs",
    __base__=_PipelineInputs,
    __module__=__name__,
    **{
        item.name: (str | None, Field(default=item.default, description=item.metadata["help"]))
        for item in fields(BuildInputs)
    },
)
PipelineInputs.__doc__ = BuildInputs.__doc__


class RefreshConfig(Config):
    """as_of_date (YYYY-MM-DD) the refresh describes; empty: the latest
    event's date. history_start (YYYY-MM-DD): the first day of the history
    fct_stage_conversion_daily, which each refresh computes in one pass;
    empty: PIPELINE_HISTORY_START, or else a year before as_of_date."""

    as_of_date: str | None = None
    history_start: str | None = None


translator = LayerTranslator()


def loaded_table_specs() -> list[AssetSpec]:
    """The tables the loader lands, as assets (their keys are the ones the
    dbt assets depend on), each described as its dbt source is."""
    manifest = json.loads(Path(pipeline_project.manifest_path).read_text())
    return [
        AssetSpec(
            key=translator.get_asset_key(props),
            group_name="loading",
            description=props.get("description") or None,
            kinds={"python", "duckdb"},
            metadata={"landed_by": "sales_pipeline.load", "schema": props["schema"]},
        )
        for props in manifest["sources"].values()
        if props["source_name"] in LOADED_SOURCES
    ]


loaded_tables = loaded_table_specs()


def load_materializations(loaded: tuple[dict, ...], config_loaded: bool) -> Iterator[Any]:
    """A materialization for each table the load wrote: the raw tables
    that got new files, the ledger and folder listing (every load), and the
    configuration tables (with config_path)."""
    keys = {spec.key.path[-1]: spec.key for spec in loaded_tables}
    for raw_table in ("raw_leads", "raw_lead_transitions"):
        files = [file for file in loaded if file["raw_table"] == raw_table]
        if files:
            yield AssetMaterialization(
                asset_key=keys[raw_table],
                metadata={
                    "files": MetadataValue.json([file["file_name"] for file in files]),
                    "rows": sum(file["row_count"] or 0 for file in files),
                    "bytes": sum(file["file_size_bytes"] or 0 for file in files),
                },
            )
    yield AssetMaterialization(asset_key=keys["load_ledger"], metadata={"new_files": len(loaded)})
    yield AssetMaterialization(asset_key=keys["export_folder"])
    if config_loaded:
        for name in ("pipeline_stages", "stage_benchmarks", "revenue_targets"):
            yield AssetMaterialization(asset_key=keys[name])


def finished(invocation: DbtCliInvocation) -> None:
    """Removes a successful dbt call's target folder: dagster-dbt gives each
    call one of its own under target/ (its artifacts and log, about 6 MB),
    so every run, and a backfill once per day, grew target/ for good. A
    failed call's folder stays, to look at."""
    if invocation.is_successful():
        shutil.rmtree(invocation.target_path, ignore_errors=True)


def run_to_end(invocation: DbtCliInvocation) -> None:
    """A dbt call whose events are not reported: waits for it (raising when
    it failed), then removes its target folder."""
    invocation.wait()
    finished(invocation)


def reported(invocation: DbtCliInvocation) -> Iterator[Any]:
    """A dbt call's events for Dagster, then its target folder removed."""
    yield from invocation.stream()
    finished(invocation)


@dbt_assets(
    manifest=pipeline_project.manifest_path,
    project=pipeline_project,
    dagster_dbt_translator=translator,
    name="pipeline_warehouse",
)
def pipeline_warehouse(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    pipeline_inputs: PipelineInputs,
    config: RefreshConfig,
) -> Iterator[Any]:
    """Seeds, staging, intermediate models and the published marts as of
    one date, with the history of the days up to it."""
    inputs = pipeline_inputs.build_inputs()
    args = refresh_args(
        config.as_of_date, inputs.dbt_vars(), config.history_start or history_start()
    )
    with building_copy(published_warehouse(), inputs, log=context.log.info) as building:
        if inputs.raw_path:
            yield from load_materializations(building.loaded, bool(inputs.config_path))
        with dbt_writes_to(building.path):
            # The op's context, which dbt.cli uses either way (its docstring):
            # handed the asset context, dagster-dbt 0.29 reads the deprecated
            # AssetExecutionContext.op (a DeprecationWarning every run).
            invocation = dbt.cli(args, context=context.op_execution_context)
        yield from reported(invocation)


@asset(
    deps=[get_asset_key_for_model([pipeline_warehouse], mart) for mart in MARTS_READ],
    group_name="reports",
)
def pipeline_dashboard(context: AssetExecutionContext) -> MaterializeResult:
    """The pipeline dashboard (sales_pipeline.dashboard): one HTML page beside
    the published warehouse, renewed from its marts after every refresh."""
    path = build_dashboard(published_warehouse())
    context.log.info(f"Dashboard written to {path}")
    return MaterializeResult(
        metadata={"path": MetadataValue.path(str(path)), "bytes": path.stat().st_size}
    )


@contextmanager
def dbt_writes_to(database: Path) -> Iterator[None]:
    """dbt invocations started in the block build into database (profiles.yml
    reads PIPELINE_DUCKDB_PATH; DbtCliResource passes os.environ when it
    starts dbt)."""
    previous = os.environ.get("PIPELINE_DUCKDB_PATH")
    os.environ["PIPELINE_DUCKDB_PATH"] = str(database)
    try:
        yield
    finally:
        if previous is None:
            del os.environ["PIPELINE_DUCKDB_PATH"]
        else:
            os.environ["PIPELINE_DUCKDB_PATH"] = previous
