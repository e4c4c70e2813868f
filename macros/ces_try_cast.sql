{#- A cast that yields null instead of failing, so bad values can be reported by a test
    rather than crash the load. -#}
{% macro ces_try_cast(expression, data_type) -%}
    {{ return(adapter.dispatch('ces_try_cast', 'ces')(expression, data_type)) }}
{%- endmacro %}

{% macro default__ces_try_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}

{% macro postgres__ces_try_cast(expression, data_type) -%}
    case
        when trim({{ expression }}::text) ~ '^[-+]?[0-9]+(\.[0-9]+)?$'
            then cast(trim({{ expression }}::text) as {{ data_type }})
    end
{%- endmacro %}
