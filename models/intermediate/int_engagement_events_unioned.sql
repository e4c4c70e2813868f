{#- Every delivery of every engagement event, from all sources, in one shape, with the
    first defect (if any) that stops it from being scored. -#}
with

product_events as (

    select * from {{ ref('stg_product__events') }}

),

support_tickets as (

    select * from {{ ref('stg_support__tickets') }}

),

unioned as (

    select
        event_source,
        event_id,
        customer_key,
        event_type,
        occurred_at,
        loaded_at,
        cast(null as {{ dbt.type_string() }}) as source_defect

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
        end as source_defect

    from support_tickets

),

checked as (

    select
        event_source,
        event_id,
        customer_key,
        event_type,
        occurred_at,
        loaded_at,
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

)

select * from checked
