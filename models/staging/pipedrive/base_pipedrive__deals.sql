-- sqlfluff:indentation:template_blocks_indent:False
-- One row per Pipedrive deal (a lead of the warehouse) and why it is left
-- out, if it is: deleted (status deleted or the deleted flag), or with the
-- var crm_pipeline of another pipeline. dlt: the deals table, one row per
-- row; an empty pipeline_id is the pipeline default. An export has no
-- deals table: each add_time change is a deal (a deal_id with two is
-- passed on twice, and staging quarantines it), its owner the deal's
-- latest user_id change (raw_leads holds the current owner), with no
-- amount or status, in the one pipeline default.
{%- if crm_loader_setting() == 'export' %}
with

changes as (

    select * from {{ ref('base_pipedrive__deal_changes') }}

),

owners as (

    select
        deal_id,
        new_value as owner_id,
        -- Ties in time: the larger id, so that a rebuild picks the same.
        row_number() over (partition by deal_id order by changed_at desc, new_value desc) as recency
    from changes
    where field_key = 'user_id'

),

final as (

    select
        changes.deal_id,
        changes.new_value as created_at,
        owners.owner_id,
        cast(null as {{ dbt.type_string() }}) as amount,
        cast(null as {{ dbt.type_string() }}) as currency,
        'default' as pipeline_id,
        cast(null as {{ dbt.type_string() }}) as status,
        false as is_deleted,
        cast(null as {{ dbt.type_string() }}) as left_out_reason
    from changes
    left join owners
        on
            changes.deal_id = owners.deal_id
            and owners.recency = 1
    where changes.field_key = 'add_time'

)
{%- else %}
with

source as (

    select * from {{ source('pipedrive', 'deals') }}

),

renamed as (

    select
        {{ crm_text('id') }} as deal_id,
        {{ crm_text('add_time') }} as created_at,
        {{ crm_text('user_id') }} as owner_id,
        {{ crm_text('value') }} as amount,
        {{ crm_text('currency') }} as currency,
        coalesce(nullif(trim({{ crm_text('pipeline_id') }}), ''), 'default') as pipeline_id,
        lower(trim({{ crm_text('status') }})) as status,
        {{ crm_flag('deleted') }} or coalesce(lower(trim({{ crm_text('status') }})) = 'deleted', false) as is_deleted
    from source

),

final as (

    select
        *,
        case
            when is_deleted then 'deleted_deal'
            {%- if crm_pipeline_setting() is not none %}
            when pipeline_id <> {{ sql_text(crm_pipeline_setting()) }} then 'other_pipeline'
            {%- endif %}
        end as left_out_reason
    from renamed

)
{%- endif %}

select * from final
