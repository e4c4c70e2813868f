with

customer_engagement as (

    select * from {{ ref('fct_customer_engagement') }}

),

per_segment as (

    select
        segment,
        cast(count(*) as bigint) as customers,
        cast(sum(engagement_score) as decimal(18, 4)) as total_engagement_score,
        {{ ces_decimal('avg(engagement_score)', 18, 4) }} as avg_engagement_score,
        {{ ces_decimal(
            ces_percentile(0.5, 'engagement_score'), 18, 4
        ) }} as median_engagement_score,
        {{ ces_decimal(
            ces_percentile(0.25, 'engagement_score'), 18, 4
        ) }} as p25_engagement_score,
        {{ ces_decimal(
            ces_percentile(0.75, 'engagement_score'), 18, 4
        ) }} as p75_engagement_score,
        {{ ces_decimal(
            ces_percentile(0.9, 'engagement_score'), 18, 4
        ) }} as p90_engagement_score,
        {{ ces_decimal(
            ces_share("engagement_tier = 'champion'"), 6, 4
        ) }} as share_champion,
        {{ ces_decimal(
            ces_share("engagement_tier = 'engaged'"), 6, 4
        ) }} as share_engaged,
        {{ ces_decimal(
            ces_share("engagement_tier = 'passive'"), 6, 4
        ) }} as share_passive,
        {{ ces_decimal(
            ces_share("engagement_tier = 'at_risk'"), 6, 4
        ) }} as share_at_risk,
        {{ ces_decimal(
            ces_share("engagement_tier = 'dormant'"), 6, 4
        ) }} as share_dormant,
        max(weights_version) as weights_version,
        max(window_start) as window_start,
        max(window_end) as window_end

    from customer_engagement
    group by segment

)

select * from per_segment
