with

customers as (

    select * from {{ ref('int_customers_deduplicated') }}

),

daily_events as (

    select * from {{ ref('int_engagement_events_daily') }}

),

months as (

    select * from {{ ref('int_months') }}

),

scoring_window as (

    select * from {{ ref('int_scoring_window') }}

),

weights as (

    select * from {{ ref('int_event_weights_resolved') }}

),

versions as (

    select * from {{ ref('int_weights_versions') }}

),

month_versions as (

    -- the version in force at each month's end
    select
        months.month_start,
        months.month_end,
        versions.weights_version

    from months
    inner join versions
        on
            months.month_end >= versions.effective_from
            and (versions.effective_until is null or months.month_end < versions.effective_until)

),

monthly_counts as (

    -- late events restate the month they occurred in: counts come from event_date
    select
        daily_events.customer_key,
        daily_events.event_type,
        cast({{ dbt.date_trunc('month', 'daily_events.event_date') }} as date) as month_start,
        sum(daily_events.event_count) as event_count

    from daily_events
    cross join scoring_window
    where
        daily_events.record_status = 'scored'
        and daily_events.event_date <= scoring_window.as_of_date
    group by
        daily_events.customer_key,
        daily_events.event_type,
        cast({{ dbt.date_trunc('month', 'daily_events.event_date') }} as date)

),

monthly_points as (

    select
        monthly_counts.customer_key,
        monthly_counts.month_start,
        sum(monthly_counts.event_count) as event_count,
        sum(coalesce(month_weights.weight, 0) * monthly_counts.event_count) as engagement_score,
        sum(coalesce(latest_weights.weight, 0) * monthly_counts.event_count)
            as engagement_score_latest_weights

    from monthly_counts
    -- the customer's segment (latest CRM row) picks its overrides, in every month
    inner join customers
        on monthly_counts.customer_key = customers.customer_key
    cross join scoring_window
    left join month_versions
        on monthly_counts.month_start = month_versions.month_start
    left join weights as month_weights
        on
            month_versions.weights_version = month_weights.weights_version
            and customers.segment = month_weights.segment
            and monthly_counts.event_type = month_weights.event_type
    left join weights as latest_weights
        on
            scoring_window.weights_version = latest_weights.weights_version
            and customers.segment = latest_weights.segment
            and monthly_counts.event_type = latest_weights.event_type
    group by monthly_counts.customer_key, monthly_counts.month_start

),

customer_months as (

    -- from the customer's first month (its creation, or the first month of data) onwards
    select
        customers.customer_key,
        customers.customer_id,
        customers.segment,
        months.month_start

    from customers
    inner join months
        on months.month_end >= cast(customers.created_at as date)

),

final as (

    select
        customer_months.customer_id,
        customer_months.segment,
        customer_months.month_start,
        month_versions.weights_version,
        cast(coalesce(monthly_points.engagement_score, 0) as decimal(18, 4)) as engagement_score,
        scoring_window.weights_version as latest_weights_version,
        cast(coalesce(monthly_points.engagement_score_latest_weights, 0) as decimal(18, 4))
            as engagement_score_latest_weights,
        cast(coalesce(monthly_points.event_count, 0) as bigint) as event_count

    from customer_months
    cross join scoring_window
    left join month_versions
        on customer_months.month_start = month_versions.month_start
    left join monthly_points
        on
            customer_months.customer_key = monthly_points.customer_key
            and customer_months.month_start = monthly_points.month_start

)

select * from final
