{#- Normalise an event name to lower snake case: 'Report Created', 'reportCreated' and
    ' report-created ' all become 'report_created'. Regex syntax differs by engine. -#}
{% macro ces_snake_case(column) -%}
    {{ return(adapter.dispatch('ces_snake_case', 'ces')(column)) }}
{%- endmacro %}

{% macro default__ces_snake_case(column) -%}
    regexp_replace(
        regexp_replace(
            lower(regexp_replace(trim({{ column }}), '([a-z0-9])([A-Z])', '\1_\2', 'g')),
            '[^a-z0-9]+', '_', 'g'
        ),
        '^_+|_+$', '', 'g'
    )
{%- endmacro %}

{% macro spark__ces_snake_case(column) -%}
    regexp_replace(
        regexp_replace(
            lower(regexp_replace(trim({{ column }}), '([a-z0-9])([A-Z])', '$1_$2')),
            '[^a-z0-9]+', '_'
        ),
        '^_+|_+$', ''
    )
{%- endmacro %}
