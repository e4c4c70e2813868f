{#- n_{c,t} and w_t · n_{c,t}: scored events per customer and event type inside the window,
    with the weight of the version in force. An unweighted type gets weight null and
    contribution 0. -#}
with

daily_events as (

    select * from {{ ref('int_engagement_events_daily') }}

),

scoring_window as (

    select * from {{ ref('int_scoring_window') }}

),

weights as (

    select * from {{ ref('stg_weights__event_weights') }}

),

in_window as (

    select
        daily_events.customer_key,
        daily_events.event_type,
        sum(daily_events.event_count) as event_count

    from daily_events
    inner join scoring_window
        on daily_events.event_date between scoring_window.window_start and scoring_window.window_end
    where daily_events.record_status = 'scored'
    group by daily_events.customer_key, daily_events.event_type

),

weighted as (

    select
        in_window.customer_key,
        in_window.event_type,
        in_window.event_count,
        scoring_window.weights_version,
        weights.weight,
        coalesce(weights.weight, 0) * in_window.event_count as contribution

    from in_window
    cross join scoring_window
    left join weights
        on
            scoring_window.weights_version = weights.weights_version
            and in_window.event_type = weights.event_type

)

select * from weighted
