with

customers as (

    select * from {{ ref('int_customers_deduplicated') }}

),

scoring_window as (

    select * from {{ ref('int_scoring_window') }}

),

event_types as (

    select * from {{ ref('int_customer_event_types_windowed') }}

),

per_customer as (

    select
        customer_key,
        sum(contribution) as engagement_score,
        sum(event_count) as event_count

    from event_types
    group by customer_key

),

final as (

    select
        customers.customer_id,
        customers.segment,
        customers.plan,
        customers.lifecycle_stage,
        cast(coalesce(per_customer.engagement_score, 0) as decimal(18, 4)) as engagement_score,
        cast(coalesce(per_customer.event_count, 0) as bigint) as event_count,
        scoring_window.weights_version,
        scoring_window.window_start,
        scoring_window.window_end

    from customers
    cross join scoring_window
    left join per_customer
        on customers.customer_key = per_customer.customer_key

)

select * from final
