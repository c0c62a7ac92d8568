-- The one row every metric is computed "as of": as_of_date from the var, or
-- the date of the latest entered_at in the data (docs/metrics.md section 1), and
-- as_of_at, the first instant after that day. Events at or after as_of_at do
-- not exist yet. Days are the business time zone's (var business_time_zone):
-- the date of an instant is its date there, and as_of_at is the next local
-- midnight, stored in UTC like every timestamp.
{%- set as_of_date = as_of_date_literal() %}

with

transitions as (

    select entered_at from {{ ref('int_lead_transitions_checked') }}
    where rejection_reason is null

),

resolved as (

    {% if as_of_date is none -%}
        select cast({{ utc_to_business_time('max(entered_at)') }} as date) as as_of_date
        from transitions
    {%- else -%}
        select {{ as_of_date }} as as_of_date
    {%- endif %}

),

final as (

    select
        as_of_date,
        {{ business_day_end('as_of_date') }} as as_of_at
    from resolved

)

select * from final
