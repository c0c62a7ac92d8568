{#
    The business time zone (var business_time_zone, an IANA name, default
    UTC) says what a day and a month are: the as-of day's end and the month
    a lead was created in (docs/metrics.md section 1). Timestamps stay
    stored in UTC, as naive timestamps; these two macros move one between
    UTC and the business zone's wall clock.

    utc_to_business_time(timestamp): the wall-clock time in the business
    zone of a UTC instant (for its date or month).

    business_time_to_utc(timestamp): the UTC instant of a wall-clock time in
    the business zone (for the end of a business day). A wall-clock time
    that a DST change skips or repeats is resolved the engine's way; local
    midnight is neither in almost every zone.

    With the default UTC both return the timestamp unchanged, so the SQL
    is the same as before the var existed.
#}
{% macro business_time_zone() -%}
    {%- set zone = var('business_time_zone') | string | trim -%}
    {%- if zone not in modules.pytz.all_timezones_set -%}
        {{ exceptions.raise_compiler_error(
            "var business_time_zone must be an IANA time zone name such as UTC or America/New_York, got '"
            ~ var('business_time_zone') ~ "'"
        ) }}
    {%- endif -%}
    {{ return(zone) }}
{%- endmacro %}

{% macro utc_to_business_time(timestamp) -%}
    {%- set zone = business_time_zone() -%}
    {%- if zone == 'UTC' -%}
        {{ timestamp }}
    {%- else -%}
        {{ return(adapter.dispatch('utc_to_business_time', 'sales_pipeline')(timestamp, zone)) }}
    {%- endif -%}
{%- endmacro %}

{% macro business_time_to_utc(timestamp) -%}
    {%- set zone = business_time_zone() -%}
    {%- if zone == 'UTC' -%}
        {{ timestamp }}
    {%- else -%}
        {{ return(adapter.dispatch('business_time_to_utc', 'sales_pipeline')(timestamp, zone)) }}
    {%- endif -%}
{%- endmacro %}

{#- DuckDB (ICU) and PostgreSQL: a naive timestamp at a zone is an instant; an instant at a zone is a wall clock. -#}
{% macro default__utc_to_business_time(timestamp, zone) -%}
    cast(({{ timestamp }} at time zone 'UTC') at time zone {{ sql_text(zone) }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro default__business_time_to_utc(timestamp, zone) -%}
    cast(({{ timestamp }} at time zone {{ sql_text(zone) }}) at time zone 'UTC' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- Spark: the session runs in UTC (profiles.yml), so a timestamp's wall clock is its UTC time. -#}
{% macro spark__utc_to_business_time(timestamp, zone) -%}
    from_utc_timestamp({{ timestamp }}, {{ sql_text(zone) }})
{%- endmacro %}

{% macro spark__business_time_to_utc(timestamp, zone) -%}
    to_utc_timestamp({{ timestamp }}, {{ sql_text(zone) }})
{%- endmacro %}

{#-
    business_day_end(date): the instant a business day ends, its next local
    midnight, in UTC: the as_of_at of a build dated that day (docs/metrics.md
    section 1), and of each day of the history.
-#}
{% macro business_day_end(date) -%}
    {{ business_time_to_utc("cast(" ~ dbt.dateadd('day', 1, date) ~ " as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}
