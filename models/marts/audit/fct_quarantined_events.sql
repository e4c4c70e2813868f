{#- Every delivery that could not be scored, with its reason code and the values exactly as
    they were loaded, so someone can inspect and fix them at the source. -#}
with

deliveries as (

    select * from {{ ref('int_engagement_events_unioned') }}

),

quarantined as (

    select
        event_source,
        defect as reason,
        event_id,
        customer_key,
        event_type,
        occurred_at,
        loaded_at,
        loaded_date,
        raw_event_id,
        raw_customer_id,
        raw_event_name,
        raw_priority

    from deliveries
    where defect is not null

)

select * from quarantined
