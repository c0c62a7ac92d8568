"""Every dbt seed and model as a Dagster asset, grouped by layer; dbt data
tests arrive as asset checks on their models."""

from collections.abc import Iterator, Mapping
from typing import Any

from dagster import AssetExecutionContext, Config, DailyPartitionsDefinition
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.dbt_args import history_day_args, refresh_args
from orchestration.project import history_start_date, pipeline_project, raw_format, raw_path


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
    yield from dbt.cli(args, context=context).stream()


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
    dbt.cli(compute).wait()
    yield from dbt.cli(record, context=context).stream()
