with

impact as (

    select * from {{ ref('fct_weights_change_impact') }}

),

per_segment as (

    select
        segment,
        cast(count(*) as bigint) as customers,
        {{ ces_decimal('avg(base_score)', 18, 4) }} as avg_base_score,
        {{ ces_decimal('avg(compare_score)', 18, 4) }} as avg_compare_score,
        {{ ces_decimal(
            ces_percentile(0.5, 'base_score'), 18, 4
        ) }} as median_base_score,
        {{ ces_decimal(
            ces_percentile(0.5, 'compare_score'), 18, 4
        ) }} as median_compare_score,
        {{ ces_decimal('avg(score_delta)', 18, 4) }} as avg_score_delta,
        cast(sum(case when tier_change = 'up' then 1 else 0 end) as bigint) as customers_tier_up,
        cast(sum(case when tier_change = 'down' then 1 else 0 end) as bigint) as customers_tier_down,
        cast(sum(case when tier_change = 'same' then 1 else 0 end) as bigint) as customers_tier_same,
        max(base_version) as base_version,
        max(compare_version) as compare_version

    from impact
    group by segment

)

select * from per_segment
