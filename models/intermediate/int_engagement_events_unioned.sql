{#- Every delivery of every engagement event, from all sources, in one shape, with the
    first defect (if any) that stops it from being scored.

    Incremental on the load day, like int_engagement_events_daily: a run re-reads raw from the
    earliest load day whose deliveries changed in any source, each source checked from its own
    newest load (see ces_reprocess_from), so the raw scans are pruned by loaded_at. Being a table, it is what the event layer probes for earlier copies of a
    re-delivered event, instead of re-deriving all history from raw on every run.

    The raw_* columns keep the values exactly as loaded, for quarantined deliveries only
    (null otherwise, which costs next to nothing in a columnar table). -#}
{{ config(**ces_incremental_config('loaded_date')) }}
{%- if is_incremental() %}
    {%- set raw_tables = {} %}
    {%- for name, raw_table in ces_event_sources().items() %}
        {%- do raw_tables.update({name: source(raw_table[0], raw_table[1])}) %}
    {%- endfor %}
    {%- set reprocess_from = ces_reprocess_from(raw_tables) %}
{%- endif %}

with

product_events as (

    select * from {{ ref('stg_product__events') }}
    {% if is_incremental() %}
        where loaded_at >= {{ reprocess_from }}
    {% endif %}

),

support_tickets as (

    select * from {{ ref('stg_support__tickets') }}
    {% if is_incremental() %}
        where loaded_at >= {{ reprocess_from }}
    {% endif %}

),

unioned as (

    select
        event_source,
        event_id,
        customer_key,
        event_type,
        occurred_at,
        loaded_at,
        cast(null as {{ dbt.type_string() }}) as source_defect,
        raw_event_id,
        raw_customer_id,
        raw_event_name,
        cast(null as {{ dbt.type_string() }}) as raw_priority

    from product_events

    union all

    select
        event_source,
        ticket_id as event_id,
        customer_key,
        'support_ticket_opened' as event_type,
        created_at as occurred_at,
        loaded_at,
        case
            when priority is null or priority not in ('low', 'normal', 'high', 'urgent')
                then 'unknown_priority'
        end as source_defect,
        raw_ticket_id as raw_event_id,
        raw_customer_id,
        cast(null as {{ dbt.type_string() }}) as raw_event_name,
        raw_priority

    from support_tickets

),

checked as (

    select
        *,
        case
            when event_id is null then 'missing_event_id'
            when customer_key is null then 'missing_customer_id'
            when occurred_at is null then 'missing_occurred_at'
            when event_type is null or event_type = '' then 'missing_event_name'
            when
                occurred_at > {{ dbt.dateadd('hour', var('ces_future_tolerance_hours') | int, 'loaded_at') }}
                then 'occurred_after_loaded'
            when
                occurred_at < cast('{{ var("ces_min_occurred_date") }}' as {{ dbt.type_timestamp() }})
                then 'occurred_before_lower_bound'
            else source_defect
        end as defect

    from unioned

),

final as (

    select
        event_source,
        event_id,
        {{ ces_key_hash(['event_source', 'event_id']) }} as key_hash,
        customer_key,
        event_type,
        occurred_at,
        loaded_at,
        cast(loaded_at as date) as loaded_date,
        defect,
        case when defect is not null then raw_event_id end as raw_event_id,
        case when defect is not null then raw_customer_id end as raw_customer_id,
        case when defect is not null then raw_event_name end as raw_event_name,
        case when defect is not null then raw_priority end as raw_priority

    from checked

)

select * from final
{{ ces_one_file_per_partition() }}
