{#- The first load day an incremental run checks: var('ces_lookback_days') days before the day
    of the newest value of `column` in the model being built. Shared by the event layer
    (ces_reprocess_from) and the event-name lookup, so both count the window in the same whole
    days.

    per none:   one date for the whole model, or none when the model is empty (or at parse time);
    per column: a dict, one date per value of that column (the event layer passes event_source,
                so each source has its own watermark); a value with no rows has no entry. -#}
{% macro ces_lookback_start(column, per=none) -%}
    {%- if not execute -%}
        {{ return(none if per is none else {}) }}
    {%- endif -%}
    {%- set newest_day = 'cast(max(' ~ column ~ ') as date)' -%}
    {%- set start = 'cast(' ~ dbt.dateadd('day', -1 * var('ces_lookback_days') | int, newest_day) ~ ' as date)' -%}
    {%- if per is none -%}
        {%- set result = run_query('select ' ~ start ~ ' from ' ~ this) -%}
        {{ return(result.columns[0].values()[0]) }}
    {%- endif -%}
    {%- set result = run_query(
        'select ' ~ per ~ ', ' ~ start ~ ' from ' ~ this ~ ' group by ' ~ per
    ) -%}
    {%- set starts = {} -%}
    {%- for row in result.rows -%}
        {%- do starts.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {{ return(starts) }}
{%- endmacro %}
