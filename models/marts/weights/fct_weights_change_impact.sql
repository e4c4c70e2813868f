with

customers as (

    select * from {{ ref('int_customers_deduplicated') }}

),

scores as (

    select * from {{ ref('int_point_scores') }}
    where point_id = 'as_of'

),

chosen as (

    select * from {{ ref('int_weights_impact_versions') }}

),

tiers as (

    select * from {{ ref('stg_seeds__engagement_tiers') }}

),

tier_order as (

    -- tiers ordered by their threshold; the no-activity tier lowest
    select
        engagement_tier,
        row_number() over (order by coalesce(min_segment_percentile, -1)) as tier_level

    from tiers

),

compared as (

    select
        customers.customer_id,
        customers.segment,
        chosen.base_version,
        chosen.compare_version,
        base.engagement_score as base_score,
        compare.engagement_score as compare_score,
        base.engagement_tier as base_tier,
        compare.engagement_tier as compare_tier,
        base_order.tier_level as base_level,
        compare_order.tier_level as compare_level

    from customers
    cross join chosen
    inner join scores as base
        on
            customers.customer_key = base.customer_key
            and chosen.base_version = base.weights_version
    inner join scores as compare
        on
            customers.customer_key = compare.customer_key
            and chosen.compare_version = compare.weights_version
    left join tier_order as base_order
        on base.engagement_tier = base_order.engagement_tier
    left join tier_order as compare_order
        on compare.engagement_tier = compare_order.engagement_tier

),

final as (

    select
        customer_id,
        segment,
        base_version,
        compare_version,
        cast(base_score as decimal(18, 4)) as base_score,
        cast(compare_score as decimal(18, 4)) as compare_score,
        cast(compare_score - base_score as decimal(18, 4)) as score_delta,
        base_tier,
        compare_tier,
        case
            when compare_level > base_level then 'up'
            when compare_level < base_level then 'down'
            else 'same'
        end as tier_change

    from compared

)

select * from final
