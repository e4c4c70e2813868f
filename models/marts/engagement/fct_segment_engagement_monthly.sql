with

customer_months as (

    select * from {{ ref('fct_customer_engagement_monthly') }}

),

per_segment as (

    select
        segment,
        month_start,
        cast(count(*) as bigint) as customers,
        cast(sum(engagement_score) as decimal(18, 4)) as total_engagement_score,
        {{ ces_decimal('avg(engagement_score)', 18, 4) }} as avg_engagement_score,
        cast(sum(engagement_score_latest_weights) as decimal(18, 4))
            as total_engagement_score_latest_weights,
        {{ ces_decimal('avg(engagement_score_latest_weights)', 18, 4) }}
            as avg_engagement_score_latest_weights,
        cast(sum(event_count) as bigint) as event_count,
        max(weights_version) as weights_version,
        max(latest_weights_version) as latest_weights_version

    from customer_months
    group by segment, month_start

)

select * from per_segment
