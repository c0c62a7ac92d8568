{#
    DuckDB threads from PIPELINE_DUCKDB_THREADS, run at the start of every
    dbt invocation (on-run-start). Unset: DuckDB's default, one per core.
    (profiles.yml cannot leave a setting out when its env var is unset,
    and threads has no "default" value to write there.)
#}
{% macro duckdb_resources() -%}
    {%- set threads = env_var('PIPELINE_DUCKDB_THREADS', '') | trim -%}
    {%- if target.type != 'duckdb' or threads == '' -%}
        {{ return('') }}
    {%- endif -%}
    {%- if not modules.re.match('^[1-9][0-9]*$', threads) -%}
        {{ exceptions.raise_compiler_error(
            "PIPELINE_DUCKDB_THREADS must be a whole number of at least 1, got '" ~ threads ~ "'"
        ) }}
    {%- endif -%}
    {{ return('set threads = ' ~ threads) }}
{%- endmacro %}
