{#- Recency and breadth per customer key: the last scored event on or before the as-of date,
    the days with a scored event in the window, and how many product event types (features;
    support tickets excluded) were used in the window. -#}
with

daily_events as (

    select * from {{ ref('int_engagement_events_daily') }}

),

scoring_window as (

    select * from {{ ref('int_scoring_window') }}

),

activity as (

    select
        daily_events.customer_key,
        max(daily_events.event_date) as last_event_date,
        count(
            distinct case
                when daily_events.event_date >= scoring_window.window_start
                    then daily_events.event_date
            end
        ) as active_days,
        count(
            distinct case
                when
                    daily_events.event_date >= scoring_window.window_start
                    and daily_events.event_source = 'product'
                    then daily_events.event_type
            end
        ) as distinct_event_types

    from daily_events
    inner join scoring_window
        on daily_events.event_date <= scoring_window.window_end
    where daily_events.record_status = 'scored'
    group by daily_events.customer_key

)

select * from activity
