{#- Every customer in the CRM at each backtest date D, scored under every weights version as
    the marts would have scored it on D: its segment's weights, the window ending D, recency
    and breadth as of D, its percentile in its segment at D, and the four flags with the
    mart's own rules (macro ces_flags). Only what was known by the end of D goes in: the CRM
    rows and events loaded by then. -#}
{{ config(materialized='table') }}

with

customers as (

    select * from {{ ref('int_backtest_customers') }}

),

event_types as (

    select * from {{ ref('int_backtest_event_types') }}

),

dates as (

    select * from {{ ref('int_backtest_dates') }}

),

daily_events as (

    select * from {{ ref('int_engagement_events_daily') }}

),

weights as (

    select * from {{ ref('stg_weights__event_weights') }}

),

versions as (

    select * from {{ ref('int_weights_versions') }}

),

defaults as (

    select
        weights_version,
        event_type,
        weight

    from weights
    where segment is null

),

overrides as (

    select
        weights_version,
        segment,
        event_type,
        weight

    from weights
    where segment is not null

),

points as (

    -- a segment's override applies to a type the version weights by default (as in
    -- int_event_weights_resolved); an unweighted type counts and adds 0
    select
        event_types.backtest_date,
        versions.weights_version,
        event_types.customer_key,
        sum(coalesce(overrides.weight, defaults.weight, 0) * event_types.event_count) as engagement_score,
        sum(coalesce(overrides.weight, defaults.weight, 0) * event_types.previous_event_count)
            as previous_engagement_score,
        sum(event_types.event_count) as event_count

    from event_types
    inner join customers
        on
            event_types.backtest_date = customers.backtest_date
            and event_types.customer_key = customers.customer_key
    cross join versions
    left join defaults
        on
            versions.weights_version = defaults.weights_version
            and event_types.event_type = defaults.event_type
    left join overrides
        on
            defaults.weights_version = overrides.weights_version
            and defaults.event_type = overrides.event_type
            and customers.segment = overrides.segment
    group by event_types.backtest_date, versions.weights_version, event_types.customer_key

),

activity as (

    select
        dates.backtest_date,
        daily_events.customer_key,
        max(daily_events.event_date) as last_event_date,
        count(
            distinct case
                when daily_events.event_date >= dates.window_start
                    then daily_events.event_date
            end
        ) as active_days,
        count(
            distinct case
                when
                    daily_events.event_date >= dates.window_start
                    and daily_events.event_source = 'product'
                    then daily_events.event_type
            end
        ) as distinct_event_types

    from daily_events
    inner join dates
        on
            daily_events.event_date <= dates.backtest_date
            and daily_events.loaded_date <= dates.backtest_date
    where daily_events.record_status = 'scored'
    group by dates.backtest_date, daily_events.customer_key

),

scored as (

    select
        customers.backtest_date,
        versions.weights_version,
        coalesce(versions.weights_version = dates.weights_version_in_force, false) as is_version_in_force,
        customers.customer_key,
        customers.customer_id,
        customers.segment,
        customers.plan,
        customers.lifecycle_stage,
        cast(coalesce(points.engagement_score, 0) as decimal(18, 4)) as engagement_score,
        cast(coalesce(points.previous_engagement_score, 0) as decimal(18, 4)) as previous_engagement_score,
        coalesce(points.event_count, 0) as event_count,
        {{ dbt.datediff('activity.last_event_date', 'customers.backtest_date', 'day') }}
            as days_since_last_event,
        coalesce(activity.active_days, 0) as active_days,
        coalesce(activity.distinct_event_types, 0) as distinct_event_types

    from customers
    inner join dates
        on customers.backtest_date = dates.backtest_date
    cross join versions
    left join points
        on
            customers.backtest_date = points.backtest_date
            and versions.weights_version = points.weights_version
            and customers.customer_key = points.customer_key
    left join activity
        on
            customers.backtest_date = activity.backtest_date
            and customers.customer_key = activity.customer_key

),

ranked as (

    select
        *,
        100 * percent_rank() over (
            partition by backtest_date, weights_version, segment
            order by engagement_score
        ) as segment_percentile,
        case
            when previous_engagement_score <> 0
                then
                    100.0 * (engagement_score - previous_engagement_score)
                    / abs(previous_engagement_score)
        end as engagement_change_pct

    from scored

),

flagged as (

    select
        *,
        {{ ces_flags() }}

    from ranked

)

select * from flagged
