{#- Use each folder's schema name as it is (staging, intermediate, marts, seeds), so BI tools
    always find the marts in `marts`, whatever the target's default schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
