with

customer_engagement as (

    select * from {{ ref('fct_customer_engagement') }}

),

per_segment as (

    select
        segment,
        cast(count(*) as bigint) as customers,
        cast(sum(engagement_score) as decimal(18, 4)) as total_engagement_score,
        cast(avg(engagement_score) as decimal(18, 4)) as avg_engagement_score,
        cast(
            percentile_cont(0.5) within group (order by engagement_score) as decimal(18, 4)
        ) as median_engagement_score,
        cast(
            percentile_cont(0.25) within group (order by engagement_score) as decimal(18, 4)
        ) as p25_engagement_score,
        cast(
            percentile_cont(0.75) within group (order by engagement_score) as decimal(18, 4)
        ) as p75_engagement_score,
        cast(
            percentile_cont(0.9) within group (order by engagement_score) as decimal(18, 4)
        ) as p90_engagement_score,
        max(weights_version) as weights_version,
        max(window_start) as window_start,
        max(window_end) as window_end

    from customer_engagement
    group by segment

)

select * from per_segment
