{#- The sources of the event layer: each name (the event_source column's value) with the raw
    table it is loaded into, as (source name, table name). int_engagement_events_unioned reads
    each one, and both incremental models of the event layer keep one watermark per name
    (ces_reprocess_from). A new source is added here and as a CTE of that model. -#}
{% macro ces_event_sources() -%}
    {{ return({
        'product': ('product', 'product_events'),
        'support': ('support', 'support_tickets'),
    }) }}
{%- endmacro %}
