{#- A post-hook on every model: on PostgreSQL, `analyze` the table or incremental model just
    built, so the next models' joins are planned from its statistics. A table created by dbt
    has none until autovacuum comes by, and PostgreSQL then guessed so few rows that it chose a
    nested loop that ran for minutes (int_backtest_population: 177 s, 1 s once analysed).
    Nothing on other engines or for views. -#}
{% macro ces_analyze_table() -%}
    {%- if target.type == 'postgres' and config.get('materialized') in ['table', 'incremental'] -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
