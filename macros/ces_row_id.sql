{#- The engine's physical row id, or none where it has no cheap fetch by row id.

    DuckDB fetches rows by rowid without scanning: int_engagement_events_daily finds the earlier
    copies of a batch's keys on fixed-width columns first, then reads the text columns of
    just those rows (at 100M events: 0.5 s instead of 1.4-3 s, because a join filter passes a
    few hundred thousand false positives, and every vector holding one has its text
    decompressed). Elsewhere the model reads the earlier copies in one pass. -#}
{% macro ces_row_id() -%}
    {{ return(adapter.dispatch('ces_row_id', 'ces')()) }}
{%- endmacro %}

{% macro default__ces_row_id() -%}
    {{ return(none) }}
{%- endmacro %}

{% macro duckdb__ces_row_id() -%}
    {{ return('rowid') }}
{%- endmacro %}
