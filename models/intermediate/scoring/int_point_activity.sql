{#- Recency and breadth per scoring point and customer key: the last scored event on or before
    the point's date, the days with a scored event in its window, and how many product event
    types (features; support tickets excluded) were used in the window, among the events
    loaded by the point's known_through day.

    Each day (and each day and product type) of a customer is reduced first to the day its
    first scored event was loaded, so each point joins a few rows per customer-day instead of
    every load of the daily layer: half the time at 100M events. -#}
with

daily_events as (

    select * from {{ ref('int_engagement_events_daily') }}

),

points as (

    select * from {{ ref('int_scoring_points') }}

),

active_days as (

    select
        customer_key,
        event_date,
        min(loaded_date) as first_loaded_date

    from daily_events
    where record_status = 'scored'
    group by customer_key, event_date

),

product_types_used as (

    select
        customer_key,
        event_date,
        event_type,
        min(loaded_date) as first_loaded_date

    from daily_events
    where record_status = 'scored' and event_source = 'product'
    group by customer_key, event_date, event_type

),

recency as (

    select
        points.point_id,
        active_days.customer_key,
        max(active_days.event_date) as last_event_date,
        count(case when active_days.event_date >= points.window_start then 1 end) as active_days

    from active_days
    inner join points
        on
            active_days.event_date <= points.window_end
            and (points.known_through is null or active_days.first_loaded_date <= points.known_through)
    group by points.point_id, active_days.customer_key

),

breadth as (

    select
        points.point_id,
        product_types_used.customer_key,
        count(distinct product_types_used.event_type) as distinct_event_types

    from product_types_used
    inner join points
        on
            product_types_used.event_date >= points.window_start
            and product_types_used.event_date <= points.window_end
            and (points.known_through is null or product_types_used.first_loaded_date <= points.known_through)
    group by points.point_id, product_types_used.customer_key

),

activity as (

    select
        recency.point_id,
        recency.customer_key,
        recency.last_event_date,
        recency.active_days,
        coalesce(breadth.distinct_event_types, 0) as distinct_event_types

    from recency
    left join breadth
        on
            recency.point_id = breadth.point_id
            and recency.customer_key = breadth.customer_key

)

select * from activity
