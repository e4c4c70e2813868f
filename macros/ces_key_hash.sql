{#- A 64-bit hash of a key's columns, for narrowing joins and groupings on long text keys.
    Never used as the key itself: two keys can share a hash, so every use must settle ties on
    the real columns (the event layer ranks copies by the real (source, event_id)). -#}
{% macro ces_key_hash(columns) -%}
    {{ return(adapter.dispatch('ces_key_hash', 'ces')(columns)) }}
{%- endmacro %}

{% macro default__ces_key_hash(columns) -%}
    {{ dbt.hash(dbt.concat(columns)) }}
{%- endmacro %}

{% macro duckdb__ces_key_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro postgres__ces_key_hash(columns) -%}
    hashtextextended(concat_ws('|', {{ columns | join(', ') }}), 0)
{%- endmacro %}

{% macro spark__ces_key_hash(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}
