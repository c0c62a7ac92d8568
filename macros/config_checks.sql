{#
    The configuration seeds' rules. Each stg_config model runs its seed's
    check when it is built: a broken configuration stops the build there,
    before any mart, with one line per problem naming the seed row by its
    key, e.g.
        Configuration error in seeds/config/pipeline_stages.csv:
          - row stage_key='discovery': stage_order 1 is also the order of 'qualification'
    Each *_config_problems macro takes the SQL of the seed's rows, typed,
    with the raw text of every typed column as <column>_text, and returns
    one message per problem.
#}

{% macro stop_on_config_errors(seed_name, problems_sql) -%}
    {#- Only when building: `dbt compile` or `docs generate` may run before the seeds exist. -#}
    {%- if execute and flags.WHICH in ['run', 'build'] -%}
        {%- set problems = run_query(problems_sql) -%}
        {%- if problems.rows | length > 0 -%}
            {%- set seed_path = [] -%}
            {%- if config_path_setting() is not none -%}
                {%- do seed_path.append(config_path_setting() ~ '/' ~ seed_name ~ '.csv') -%}
            {%- endif -%}
            {%- for node in graph.nodes.values() if node.resource_type == 'seed' and node.name == seed_name -%}
                {%- do seed_path.append(node.original_file_path) -%}
            {%- endfor -%}
            {%- set lines = [] -%}
            {%- for row in problems.rows -%}
                {%- do lines.append('  - ' ~ row[0]) -%}
            {%- endfor -%}
            {{ exceptions.raise_compiler_error(
                'Configuration error in ' ~ (seed_path | first | default(seed_name)) ~ ':\n'
                ~ lines | join('\n')
                ~ '\nFix these rows and build again; no model was built from them.'
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- 'row <key>=''<value>'': ' as SQL text, for the start of a message. -#}
{% macro config_row(key_column, key_sql) -%}
    'row {{ key_column }}=''' || coalesce({{ key_sql }}, '') || ''': '
{%- endmacro %}

{#- A number or text for a message: the text as written, quoted. -#}
{% macro quoted_text(text_sql) -%}
    '''' || coalesce({{ text_sql }}, '') || ''''
{%- endmacro %}

{#- The message for a key on more than one row: "the key appears on 2 rows; keys must be unique". -#}
{% macro repeated_row_message(key_column, key_sql, count_column, noun) -%}
    {{ config_row(key_column, key_sql) }} || 'the {{ noun }} appears on '
    || cast({{ count_column }} as {{ dbt.type_string() }}) || ' rows; {{ noun }}s must be unique'
{%- endmacro %}

{#- 'pipeline ''<id>'': ' before a pipeline's message, nothing for the default pipeline's. -#}
{% macro pipeline_message_prefix(pipeline_id_sql) -%}
    case
        when {{ pipeline_id_sql }} = {{ default_pipeline_id() }} then ''
        else 'pipeline ''' || {{ pipeline_id_sql }} || ''': '
    end
{%- endmacro %}

{% macro pipeline_stages_config_problems(stages_sql) -%}
    with

    stages as (

        {{ stages_sql }}

    ),

    counted as (

        select
            *,
            count(*) over (partition by stage_key) as rows_with_key
        from stages

    ),

    row_problems as (

        select
            stage_key,
            case
                when stage_key is null then 'row stage_name=' || {{ quoted_text('stage_name') }} || ': stage_key is empty'
                when rows_with_key > 1
                    then {{ repeated_row_message('stage_key', 'stage_key', 'rows_with_key', 'key') }}
                when stage_type is null or stage_type not in ('open', 'won', 'lost')
                    then {{ config_row('stage_key', 'stage_key') }} || 'stage_type '
                    || {{ quoted_text('stage_type') }} || ' is not open, won or lost'
                when stage_order_text is not null and (stage_order is null or stage_order < 1)
                    then {{ config_row('stage_key', 'stage_key') }} || 'stage_order '
                    || {{ quoted_text('stage_order_text') }} || ' is not a whole number of at least 1'
                when stage_type = 'lost' and stage_order is not null
                    then {{ config_row('stage_key', 'stage_key') }} || 'a lost stage has no stage_order (got '
                    || {{ quoted_text('stage_order_text') }} || ')'
                when stage_type != 'lost' and stage_order is null
                    then {{ config_row('stage_key', 'stage_key') }} || 'an ' || stage_type
                    || ' stage needs a stage_order'
                when default_expected_days_text is not null
                    and (default_expected_days is null or default_expected_days <= 0)
                    then {{ config_row('stage_key', 'stage_key') }} || 'default_expected_days '
                    || {{ quoted_text('default_expected_days_text') }} || ' is not a number of days above 0'
            end as message
        from counted

    ),

    shared_orders as (

        -- Orders are unique within a pipeline (macros/pipelines.sql).
        select
            min(stage_key) as stage_key,
            'rows stage_key=''' || {{ sorted_text_list('stage_key', "''', '''") }}
            || ''': they share stage_order ' || cast(stage_order as {{ dbt.type_string() }})
            || '; orders must be unique' as message
        from stages
        where stage_order is not null
        group by pipeline_id, stage_order
        having count(*) > 1

    ),

    summary as (

        -- The rules of one pipeline, per pipeline; an empty seed is one row
        -- of nulls (no group).
        select
            {{ pipeline_message_prefix('max(pipeline_id)') }} as pipeline_prefix,
            count(distinct pipeline_name) as pipeline_names,
            sum(case when stage_type = 'won' then 1 else 0 end) as won_stages,
            sum(case when stage_type = 'open' then 1 else 0 end) as open_stages,
            max(case when stage_type = 'won' then stage_order end) as won_order,
            max(case when stage_type = 'open' then stage_order end) as last_open_order
        from stages
        group by pipeline_id
        union all
        select
            '' as pipeline_prefix,
            cast(null as {{ dbt.type_int() }}) as pipeline_names,
            cast(null as {{ dbt.type_int() }}) as won_stages,
            cast(null as {{ dbt.type_int() }}) as open_stages,
            cast(null as {{ dbt.type_int() }}) as won_order,
            cast(null as {{ dbt.type_int() }}) as last_open_order
        from (select count(*) as stage_rows from stages) as counted
        where stage_rows = 0

    ),

    pipeline_problems as (

        select
            cast(null as {{ dbt.type_string() }}) as stage_key,
            pipeline_prefix || case
                when pipeline_names > 1 then cast(pipeline_names as {{ dbt.type_string() }})
                    || ' pipeline_name values: a pipeline has one name, on every row (or on none)'
                when won_stages = 0 then 'no row has stage_type won: add the one won stage, after every open stage'
                when won_stages > 1 then cast(won_stages as {{ dbt.type_string() }})
                    || ' rows have stage_type won: exactly one won stage is allowed'
                when open_stages = 0 then 'no row has stage_type open: a pipeline needs at least one open stage'
                when won_order <= last_open_order then 'the won stage (stage_order '
                    || cast(won_order as {{ dbt.type_string() }}) || ') must come after every open stage (the last is '
                    || cast(last_open_order as {{ dbt.type_string() }}) || ')'
                -- The win probability's chain walks at most this many (int_stage_win_probability).
                when open_stages > {{ max_open_stages() }} then cast(open_stages as {{ dbt.type_string() }})
                    || ' rows have stage_type open: at most {{ max_open_stages() }} open stages are allowed'
            end as message
        from summary
        -- An empty seed is one problem, not four.
        where won_stages is not null

        union all

        select
            cast(null as {{ dbt.type_string() }}) as stage_key,
            'the seed has no rows: list the stages of your sales process' as message
        from summary
        where won_stages is null

    ),

    problems as (

        select * from row_problems
        union all
        select * from shared_orders
        union all
        select * from pipeline_problems

    )

    select message
    from problems
    where message is not null
    order by stage_key nulls last, message
{%- endmacro %}

{% macro stage_benchmarks_config_problems(benchmarks_sql) -%}
    with

    benchmarks as (

        {{ benchmarks_sql }}

    ),

    counted as (

        select
            *,
            count(*) over (partition by stage_key) as rows_with_key
        from benchmarks

    ),

    problems as (

        select
            stage_key,
            case
                when stage_key is null then 'a row has an empty stage_key'
                when rows_with_key > 1
                    then {{ repeated_row_message('stage_key', 'stage_key', 'rows_with_key', 'key') }}
                when benchmark_conversion_rate is null
                    or benchmark_conversion_rate < 0
                    or benchmark_conversion_rate > 1
                    then {{ config_row('stage_key', 'stage_key') }} || 'benchmark_conversion_rate '
                    || {{ quoted_text('benchmark_conversion_rate_text') }} || ' is not a rate between 0 and 1'
            end as message
        from counted

    )

    select message
    from problems
    where message is not null
    order by stage_key nulls last, message
{%- endmacro %}

{% macro revenue_targets_config_problems(targets_sql) -%}
    with

    targets as (

        {{ targets_sql }}

    ),

    counted as (

        select
            *,
            -- A month's target per pipeline, or once overall.
            count(*) over (partition by pipeline_id, target_month) as rows_with_month
        from targets

    ),

    problems as (

        select
            target_month_text,
            case
                when target_month is null
                    then {{ config_row('target_month', 'target_month_text') }}
                    || 'target_month is not a date written YYYY-MM-01'
                when extract(day from target_month) != 1
                    then {{ config_row('target_month', 'target_month_text') }}
                    || 'target_month must be the first day of a month'
                when rows_with_month > 1
                    then {{ repeated_row_message('target_month', 'target_month_text', 'rows_with_month', 'month') }}
                    || case when pipeline_id is not null then ' per pipeline (pipeline ''' || pipeline_id || ''')' else '' end
                when revenue_target_usd is null or revenue_target_usd <= 0
                    then {{ config_row('target_month', 'target_month_text') }} || 'revenue_target_usd '
                    || {{ quoted_text('revenue_target_usd_text') }} || ' is not an amount above 0'
                when avg_deal_size_usd_text is not null and (avg_deal_size_usd is null or avg_deal_size_usd <= 0)
                    then {{ config_row('target_month', 'target_month_text') }} || 'avg_deal_size_usd '
                    || {{ quoted_text('avg_deal_size_usd_text') }}
                    || ' is not an amount above 0 (leave it empty to use the observed average won deal)'
            end as message
        from counted

    )

    select message
    from problems
    where message is not null
    order by target_month_text nulls last, message
{%- endmacro %}

{#- The group's texts in order, joined by delimiter_sql (a SQL string literal); Spark's listagg cannot order. -#}
{% macro sorted_text_list(column, delimiter_sql) -%}
    {{ return(adapter.dispatch('sorted_text_list', 'sales_pipeline')(column, delimiter_sql)) }}
{%- endmacro %}

{% macro default__sorted_text_list(column, delimiter_sql) -%}
    {{ dbt.listagg(column, delimiter_sql, 'order by ' ~ column) }}
{%- endmacro %}

{% macro spark__sorted_text_list(column, delimiter_sql) -%}
    array_join(array_sort(collect_list({{ column }})), {{ delimiter_sql }})
{%- endmacro %}

{% macro exchange_rates_config_problems(rates_sql) -%}
    with

    rates as (

        {{ rates_sql }}

    ),

    counted as (

        select
            *,
            count(*) over (partition by currency, valid_from) as rows_with_start
        from rates

    ),

    problems as (

        select
            currency_text,
            valid_from_text,
            case
                when currency is null or not {{ regex_matches('currency', '^[A-Z]{3}$') }}
                    then {{ config_row('currency', 'currency_text') }}
                    || 'currency is not a three-letter ISO 4217 code such as EUR'
                when currency = {{ sql_text(reporting_currency()) }}
                    then {{ config_row('currency', 'currency_text') }}
                    || 'this is the reporting currency (var reporting_currency): its amounts need no rate'
                when valid_from is null
                    then {{ config_row('currency', 'currency_text') }} || 'valid_from '
                    || {{ quoted_text('valid_from_text') }} || ' is not a date written YYYY-MM-DD'
                when rows_with_start > 1
                    then {{ config_row('currency', 'currency_text') }} || 'valid_from ' || valid_from_text
                    || ' appears on ' || cast(rows_with_start as {{ dbt.type_string() }})
                    || ' rows; a currency has one rate from each date'
                when rate_to_reporting is null or rate_to_reporting <= 0
                    then {{ config_row('currency', 'currency_text') }} || 'rate_to_reporting '
                    || {{ quoted_text('rate_to_reporting_text') }} || ' is not a number above 0'
            end as message
        from counted

    )

    select message
    from problems
    where message is not null
    order by currency_text nulls last, valid_from_text nulls last, message
{%- endmacro %}
