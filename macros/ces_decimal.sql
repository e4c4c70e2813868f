{#- A derived number (a ratio, an average, a percentile) rounded to `scale` decimals, half away
    from zero, the same on every engine. DuckDB divides and averages decimals as doubles and
    its double-to-decimal cast rounds differently from PostgreSQL's numeric (-15.625 became
    -15.62 in DuckDB and -15.63 in PostgreSQL), so the value goes through a wide decimal first
    and is rounded there explicitly. -#}
{% macro ces_decimal(expression, precision, scale) -%}
    cast(round(cast({{ expression }} as decimal(38, 10)), {{ scale }}) as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}
