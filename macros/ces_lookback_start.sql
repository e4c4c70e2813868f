{#- The first load day an incremental run checks: var('ces_lookback_days') days before the day
    of the newest value of `column` in the model being built. Returned as a date, or none when
    the model is empty (or at parse time). Shared by the event layer (ces_reprocess_from) and
    the event-name lookup, so both count the window in the same whole days. -#}
{% macro ces_lookback_start(column) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set newest_day = 'cast(max(' ~ column ~ ') as date)' -%}
    {%- set result = run_query(
        "select cast(" ~ dbt.dateadd('day', -1 * var('ces_lookback_days') | int, newest_day)
        ~ " as date) from " ~ this
    ) -%}
    {{ return(result.columns[0].values()[0]) }}
{%- endmacro %}
