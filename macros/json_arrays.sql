{#
    json_array_rows(relation, array_column, columns, fields): a select of
    one row per element of a JSON array held in one column of relation.

    Why: a loader may nest a list in a column where the others land a child
    table (Airbyte's HubSpot deal_pipelines.stages, where dlt writes
    pipelines_deals__stages). Each engine unnests JSON its own way, and
    the column may be landed as JSON, jsonb or text: it is read as text and
    parsed here, so every engine unnests the same text alike.

    columns: {alias: column} of relation, repeated on its elements' rows.
    fields: {alias: [key, ...]}, each element's value at that path, as text
    (a missing key gives null; a number its digits, as the JSON writes them).
    A row whose array is null or empty gives no rows.
    Column names come from the adapter's fixed mapping (crm_column); path
    keys are written into the SQL as literals, so they must be plain names.
#}
{% macro json_array_rows(relation, array_column, columns, fields) -%}
    {%- for path in fields.values() -%}
        {%- for key in path -%}
            {%- if not modules.re.match('^[A-Za-z_][A-Za-z0-9_]*$', key) -%}
                {{ exceptions.raise_compiler_error("json_array_rows: a JSON key must be a plain name; got '" ~ key ~ "'") }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(adapter.dispatch('json_array_rows', 'sales_pipeline')(relation, array_column, columns, fields)) }}
{%- endmacro %}

{#- PostgreSQL: jsonb_array_elements in a lateral join. -#}
{% macro default__json_array_rows(relation, array_column, columns, fields) -%}
    select
        {%- for alias, column in columns.items() %}
        array_rows.{{ column }} as {{ alias }},
        {%- endfor %}
        {%- for alias, path in fields.items() %}
        jsonb_extract_path_text(array_elements.element, '{{ path | join("', '") }}') as {{ alias }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }} as array_rows
    cross join lateral jsonb_array_elements(
        cast(cast(array_rows.{{ array_column }} as text) as jsonb)
    ) as array_elements (element)
{%- endmacro %}

{% macro postgres__json_array_rows(relation, array_column, columns, fields) -%}
    {{ default__json_array_rows(relation, array_column, columns, fields) }}
{%- endmacro %}

{#- DuckDB: the text cast to a list of JSON values, unnested. -#}
{% macro duckdb__json_array_rows(relation, array_column, columns, fields) -%}
    select
        {%- for alias, column in columns.items() %}
        array_rows.{{ column }} as {{ alias }},
        {%- endfor %}
        {%- for alias, path in fields.items() %}
        json_extract_string(array_elements.element, '$.{{ path | join(".") }}') as {{ alias }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }} as array_rows
    cross join unnest(
        cast(cast(array_rows.{{ array_column }} as varchar) as json[])
    ) as array_elements (element)
{%- endmacro %}

{#-
    Spark: from_json into an array of strings keeps each element's JSON
    text, so one schema serves every array of objects; explode drops a
    null or empty array as the other engines do.
-#}
{% macro spark__json_array_rows(relation, array_column, columns, fields) -%}
    select
        {%- for alias, column in columns.items() %}
        array_rows.{{ column }} as {{ alias }},
        {%- endfor %}
        {%- for alias, path in fields.items() %}
        get_json_object(array_elements.element, '$.{{ path | join(".") }}') as {{ alias }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }} as array_rows
    lateral view explode(
        from_json(cast(array_rows.{{ array_column }} as string), 'array<string>')
    ) array_elements as element
{%- endmacro %}
