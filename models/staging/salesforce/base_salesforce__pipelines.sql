-- One row per pipeline read: the record types (Opportunity.RecordTypeId)
-- of the opportunities read, default for those without one (or one
-- pipeline default when none is read), named by RecordType's Name when
-- the loader landed it (else the id; default: Default), with the prefix
-- of its stage keys (crm_pipeline_key_prefixes: empty when one pipeline is
-- read, so an org with one record type, or none, keeps its plain keys).
-- Salesforce's stages are one org-wide list: every pipeline has them all.
-- A crm_pipeline that no opportunity has stops the build, listing the
-- record types with their opportunities.
{%- set opportunities_relation = ref('base_salesforce__opportunities') %}
{%- set chosen = crm_pipeline_setting() %}
{%- if chosen is not none %}
{%- do crm_stop_if_rows(
    "select 'record type ' || pipeline_id || ': ' || cast(count(*) as " ~ dbt.type_string() ~ ") || ' opportunities'"
    ~ " from " ~ opportunities_relation
    ~ " where not exists (select 1 from " ~ opportunities_relation ~ " where left_out_reason is null)"
    ~ " and (left_out_reason is null or left_out_reason = 'other_pipeline')"
    ~ " group by pipeline_id order by pipeline_id",
    "var crm_pipeline (env PIPELINE_CRM_PIPELINE) is " ~ chosen | tojson
    ~ ", which is the record type of no opportunity; the record types (default: none) are",
    "Set crm_pipeline to one of them, or leave it empty to read every record type."
) %}
{%- endif %}
{%- set record_type_id = crm_column('id') %}
{%- set record_type_name = crm_column('name') %}
with

opportunities as (

    select * from {{ opportunities_relation }}

),

record_types as (

    {{ crm_optional_table('salesforce', 'record_type', [record_type_id, record_type_name]) }}

),

record_type_names as (

    select
        {{ crm_text(record_type_id) }} as pipeline_id,
        max({{ crm_text(record_type_name) }}) as pipeline_name
    from record_types
    group by {{ crm_text(record_type_id) }}

),

read_pipelines as (

    select distinct pipeline_id
    from opportunities
    where left_out_reason is null

),

pipeline_ids as (

    select pipeline_id from read_pipelines

    union all

    select 'default' as pipeline_id
    from (select count(*) as pipeline_count from read_pipelines) as counted
    where counted.pipeline_count = 0

),

pipelines as (

    select
        pipeline_ids.pipeline_id,
        coalesce(
            nullif(trim(record_type_names.pipeline_name), ''),
            case when pipeline_ids.pipeline_id = 'default' then 'Default' else pipeline_ids.pipeline_id end
        ) as pipeline_name
    from pipeline_ids
    left join record_type_names
        on pipeline_ids.pipeline_id = record_type_names.pipeline_id

),

final as (

    {{ crm_pipeline_key_prefixes('pipelines') }}

)

select * from final
