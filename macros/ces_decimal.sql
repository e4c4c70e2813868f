{#- A derived number (a ratio, an average, a percentile) rounded to `scale` decimals, half away
    from zero, the same on every engine. DuckDB divides and averages decimals as doubles and
    its double-to-decimal cast rounds differently from PostgreSQL's numeric (-15.625 became
    -15.62 in DuckDB and -15.63 in PostgreSQL), so the value goes through a wide decimal first
    and is rounded there explicitly. -#}
{% macro ces_decimal(expression, precision, scale) -%}
    cast(round(cast({{ expression }} as decimal(38, 10)), {{ scale }}) as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{#- A continuous percentile, interpolated in double precision on every engine, for ces_decimal
    to round. DuckDB's percentile_cont over a decimal returns the input's decimal type,
    truncated (80.05996 became 80.0599), while PostgreSQL and Spark interpolate in double
    (80.0600 once rounded). -#}
{% macro ces_percentile(fraction, column) -%}
    percentile_cont({{ fraction }}) within group (order by cast({{ column }} as {{ ces_data_type('double') }}))
{%- endmacro %}

{#- The share of rows where `condition` holds, for ces_decimal to round. Averaged over a wide
    decimal: Spark keeps only four more decimals than its input in avg(), so avg(1.0) had five
    and 17/57 was rounded twice (0.29825, then 0.2983 instead of 0.2982). -#}
{% macro ces_share(condition) -%}
    avg(case when {{ condition }} then cast(1 as decimal(18, 10)) else cast(0 as decimal(18, 10)) end)
{%- endmacro %}
