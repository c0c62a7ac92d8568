-- sqlfluff:indentation:template_blocks_indent:False
-- Every Pipedrive change that is a stage change of the generic contract, as
-- a stage key from changed_at on, and why it is left out, if it is.
-- dlt: stage_id rows (the stage id's key; an id the stages table lacks is
-- kept as written, and staging quarantines it as an unknown stage), status
-- won or lost (the stages won and lost the adapter adds) and status open
-- after a close (the deal is again in the stage it was in: that stage at
-- that time; not when the same change moved it to a stage, nor before any
-- stage). Keys of the stages read carry their pipeline's prefix (won and
-- lost: the deal's pipeline's). Changes of deals left out are left out with
-- them, and a change into a stage of another pipeline than the deal's (a
-- deal moved between pipelines) is left out as stage_of_another_pipeline.
-- export: stage_id rows up to the won stage (var crm_won_stage); a deal's
-- first change into the won or a post-sale stage enters the won stage (it
-- was won to get there), later post-sale ones are left out; a lost_reason
-- is the deal's loss, unless it is empty or comes after the deal was won
-- (the Enpal export gives every deal one after its last stage change).
-- "Before" is an earlier changed_at as staging parses it (UTC; an
-- unparseable one comes last, and staging quarantines its row).
with

changes as (

    select * from {{ ref('base_pipedrive__deal_changes') }}

),

stages as (

    select * from {{ ref('base_pipedrive__stages') }}

),
{%- if crm_loader_setting() == 'export' %}

won_stage as (

    select min(order_nr) as order_nr
    from stages
    where stage_key = {{ stage_key_of(sql_text(pipedrive_won_stage_setting())) }}

),

kinds as (

    select
        stages.stage_id,
        stages.stage_key,
        case
            when stages.order_nr > won_stage.order_nr then 'post_sale'
            when stages.order_nr = won_stage.order_nr then 'won'
            else 'open'
        end as stage_kind
    from stages
    cross join won_stage

),

won_key as (

    select min(stage_key) as stage_key
    from kinds
    where stage_kind = 'won'

),

events as (

    select
        changes.deal_id,
        changes.field_key,
        changes.new_value,
        changes.changed_at,
        {{ parse_utc_timestamp('changes.changed_at') }} as changed_at_utc,
        kinds.stage_key,
        kinds.stage_kind
    from changes
    left join kinds
        on
            changes.field_key = 'stage_id'
            and changes.new_value = kinds.stage_id
    where changes.field_key in ('stage_id', 'lost_reason')

),

won_at as (

    select
        deal_id,
        min(changed_at_utc) as won_at
    from events
    where stage_kind in ('won', 'post_sale')
    group by deal_id

),

final as (

    select
        events.deal_id,
        case
            when events.field_key = 'lost_reason' then 'lost'
            when events.stage_kind = 'post_sale' then won_key.stage_key
            -- An id the stages table lacks: kept, quarantined as an unknown stage.
            else coalesce(events.stage_key, events.new_value)
        end as stage_key,
        events.changed_at,
        case
            when events.field_key = 'lost_reason' and coalesce(trim(events.new_value), '') = ''
                then 'lost_reason_cleared'
            when events.field_key = 'lost_reason' and events.changed_at_utc > won_at.won_at
                then 'lost_reason_after_won'
            when events.stage_kind = 'post_sale' and events.changed_at_utc > won_at.won_at
                then 'post_sale_stage_change'
        end as left_out_reason
    from events
    left join won_at
        on events.deal_id = won_at.deal_id
    cross join won_key

)
{%- else %}

events as (

    select
        changes.deal_id,
        changes.field_key,
        changes.changed_at,
        {{ parse_utc_timestamp('changes.changed_at') }} as changed_at_utc,
        -- An id the stages table lacks: kept, quarantined as an unknown stage.
        case
            when changes.field_key = 'stage_id'
                then coalesce(stages.key_prefix || stages.stage_key, changes.new_value)
        end as stage_key,
        case when changes.field_key = 'stage_id' then stages.pipeline_id end as stage_pipeline_id,
        case when changes.field_key = 'status' then lower(trim(changes.new_value)) end as status
    from changes
    left join stages
        on
            changes.field_key = 'stage_id'
            and changes.new_value = stages.stage_id
    where
        changes.field_key = 'stage_id'
        or (changes.field_key = 'status' and lower(trim(changes.new_value)) in ('won', 'lost', 'open'))

),

-- The stage a deal is in at each change: a running count of its stage
-- changes numbers the runs, and each run holds one stage change (portable:
-- no last_value ... ignore nulls).
runs as (

    select
        *,
        sum(case when field_key = 'stage_id' then 1 else 0 end) over (
            partition by deal_id
            order by
                case when changed_at_utc is null then 1 else 0 end,
                changed_at_utc,
                case when field_key = 'stage_id' then 0 else 1 end,
                changed_at
            rows between unbounded preceding and current row
        ) as stage_run
    from events

),

in_stage as (

    select
        *,
        max(stage_key) over (partition by deal_id, stage_run) as current_stage_key,
        max(stage_pipeline_id) over (partition by deal_id, stage_run) as current_stage_pipeline_id
    from runs

),

stage_change_times as (

    select distinct
        deal_id,
        changed_at
    from events
    where field_key = 'stage_id'

),

read_pipelines as (

    select distinct
        pipeline_id,
        key_prefix
    from stages
    where is_read

),

-- The pipeline each deal read is in now (a repeated id: the largest), and
-- its stage keys' prefix: its won and lost are that pipeline's.
deal_pipelines as (

    select
        deals.deal_id,
        max(deals.pipeline_id) as pipeline_id,
        max(read_pipelines.key_prefix) as key_prefix
    from {{ ref('base_pipedrive__deals') }} as deals
    left join read_pipelines
        on deals.pipeline_id = read_pipelines.pipeline_id
    where deals.left_out_reason is null
    group by deals.deal_id

),

reads as (

    select
        in_stage.deal_id,
        case
            when in_stage.field_key = 'stage_id' then in_stage.stage_key
            when in_stage.status in ('won', 'lost') then coalesce(deal_pipelines.key_prefix, '') || in_stage.status
            else in_stage.current_stage_key
        end as stage_key,
        case
            when in_stage.field_key = 'stage_id' then in_stage.stage_pipeline_id
            when in_stage.status in ('won', 'lost') then deal_pipelines.pipeline_id
            else in_stage.current_stage_pipeline_id
        end as stage_pipeline_id,
        deal_pipelines.pipeline_id as deal_pipeline_id,
        in_stage.changed_at
    from in_stage
    left join deal_pipelines
        on in_stage.deal_id = deal_pipelines.deal_id
    left join stage_change_times
        on
            in_stage.status = 'open'
            and in_stage.deal_id = stage_change_times.deal_id
            and in_stage.changed_at = stage_change_times.changed_at
    where
        coalesce(in_stage.status, '') <> 'open'
        or (in_stage.current_stage_key is not null and stage_change_times.deal_id is null)

),

left_out_deals as (

    {{ crm_left_out_deals(ref('base_pipedrive__deals'), 'deal_id') }}

),

final as (

    select
        reads.deal_id,
        reads.stage_key,
        reads.changed_at,
        case
            when left_out_deals.deal_id is not null
                then 'stage_change_of_' || left_out_deals.left_out_reason
            -- A stage of another pipeline than the deal's (moved between pipelines).
            when reads.stage_pipeline_id <> reads.deal_pipeline_id then 'stage_of_another_pipeline'
        end as left_out_reason
    from reads
    left join left_out_deals
        on reads.deal_id = left_out_deals.deal_id

)
{%- endif %}

select * from final
