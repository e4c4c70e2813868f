{#- A source table the project can do without (raw.customer_outcomes): its rows when it
    exists, else no rows of the same columns, so the models that read it build empty and the
    build goes on. The log line says which. -#}
{% macro ces_optional_source(source_name, table_name, columns) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set found = execute and adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) is not none -%}
    {%- if execute and not found -%}
        {{ log("ces: " ~ relation.schema ~ "." ~ relation.identifier
            ~ " does not exist: the models that read it build empty (docs/backtests.md)", info=true) }}
    {%- endif -%}
    {%- if found or not execute -%}
        select * from {{ relation }}
    {%- else -%}
        select
            {%- for name, data_type in columns.items() %}
                cast(null as {{ ces_data_type(data_type) }}) as {{ name }}{{ "," if not loop.last }}
            {%- endfor %}
        from (select 1 as one) as nothing
        where 1 = 0
    {%- endif -%}
{%- endmacro %}
