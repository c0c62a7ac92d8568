"""Every dbt seed and model as a Dagster asset, grouped by layer; dbt data
tests arrive as asset checks on their models. Each run builds a copy of the
warehouse and publishes it only when the whole dbt invocation succeeds
(orchestration.publish)."""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, Config, DailyPartitionsDefinition
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.dbt_args import history_day_args, refresh_args
from orchestration.project import history_start_date, pipeline_project, raw_format, raw_path
from orchestration.publish import building_copy, published_warehouse


class LayerTranslator(DagsterDbtTranslator):
    """Groups assets by warehouse layer: raw, config, staging, intermediate, marts."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        # fqn is [project, folder, ..., name]: the first folder is the layer.
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "default"


class RefreshConfig(Config):
    """as_of_date (YYYY-MM-DD) the refresh describes; empty: the latest event's date."""

    as_of_date: str | None = None


translator = LayerTranslator()
history_partitions = DailyPartitionsDefinition(start_date=history_start_date(), timezone="UTC")


@dbt_assets(
    manifest=pipeline_project.manifest_path,
    project=pipeline_project,
    exclude="tag:history",
    dagster_dbt_translator=translator,
    name="pipeline_warehouse",
)
def pipeline_warehouse(
    context: AssetExecutionContext, dbt: DbtCliResource, config: RefreshConfig
) -> Iterator[Any]:
    """Seeds, staging, intermediate models and the published marts, as of one date."""
    args = refresh_args(config.as_of_date, raw_path(), raw_format())
    with building_copy(published_warehouse()) as building:
        with dbt_writes_to(building):
            invocation = dbt.cli(args, context=context)
        yield from invocation.stream()


@dbt_assets(
    manifest=pipeline_project.manifest_path,
    project=pipeline_project,
    select="tag:history",
    dagster_dbt_translator=translator,
    partitions_def=history_partitions,
    name="stage_conversion_history",
)
def stage_conversion_history(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """One day of fct_stage_conversion_daily: the partition's date is the as-of date."""
    compute, record = history_day_args(context.partition_key, raw_path(), raw_format())
    with building_copy(published_warehouse()) as building:
        with dbt_writes_to(building):
            dbt.cli(compute).wait()
            invocation = dbt.cli(record, context=context)
        yield from invocation.stream()


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
