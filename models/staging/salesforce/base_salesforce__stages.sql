-- One row per stage of the org's OpportunityStage (one org-wide list) with
-- the loader's names made the adapter's own: its API name made a stage key
-- (as base_salesforce__raw_lead_transitions makes it), its label, its
-- SortOrder and its type: a won stage is won, a closed one that is not won
-- is lost, the others open. Inactive stages are kept: the history still
-- holds them.
with

source as (

    select * from {{ source('salesforce', 'opportunity_stage') }}

),

final as (

    select
        {{ stage_key_of(crm_text(crm_column({'fivetran': 'api_name', 'airbyte': 'apiname'}))) }} as stage_key,
        {{ crm_text(crm_column({'fivetran': 'master_label', 'airbyte': 'masterlabel'})) }} as stage_name,
        {{ try_cast(
            crm_text(crm_column({'fivetran': 'sort_order', 'airbyte': 'sortorder'})), type_double()
        ) }} as sort_order,
        case
            when {{ crm_flag(crm_column({'fivetran': 'is_won', 'airbyte': 'iswon'})) }} then 'won'
            when {{ crm_flag(crm_column({'fivetran': 'is_closed', 'airbyte': 'isclosed'})) }} then 'lost'
            else 'open'
        end as stage_type
    from source

)

select * from final
