{#- Every CRM customer's window score under every weights version, with its percentile rank
    in its segment and its tier under that version. fct_customer_engagement reads the version
    in force; fct_weights_change_impact compares any two. -#}
with

customers as (

    select * from {{ ref('int_customers_deduplicated') }}

),

event_types as (

    select * from {{ ref('int_customer_event_types_windowed') }}

),

weights as (

    select * from {{ ref('int_event_weights_resolved') }}

),

tiers as (

    select * from {{ ref('ces_engagement_tiers') }}

),

versions as (

    select * from {{ ref('int_weights_versions') }}

),

points as (

    -- each customer's counts under every version, with its segment's weights
    select
        customers.customer_key,
        versions.weights_version,
        cast(sum(coalesce(weights.weight, 0) * event_types.event_count) as decimal(18, 4))
            as engagement_score,
        sum(event_types.event_count) as event_count

    from event_types
    inner join customers
        on event_types.customer_key = customers.customer_key
    cross join versions
    left join weights
        on
            versions.weights_version = weights.weights_version
            and customers.segment = weights.segment
            and event_types.event_type = weights.event_type
    group by customers.customer_key, versions.weights_version

),

scored as (

    select
        customers.customer_key,
        customers.segment,
        versions.weights_version,
        cast(coalesce(points.engagement_score, 0) as decimal(18, 4)) as engagement_score,
        coalesce(points.event_count, 0) as event_count

    from customers
    cross join versions
    left join points
        on
            customers.customer_key = points.customer_key
            and versions.weights_version = points.weights_version

),

ranked as (

    select
        *,
        100 * percent_rank() over (
            partition by weights_version, segment
            order by engagement_score
        ) as segment_percentile

    from scored

),

tier_candidates as (

    -- a tie at a threshold belongs to the higher tier (>=)
    select
        ranked.customer_key,
        ranked.weights_version,
        tiers.engagement_tier,
        row_number() over (
            partition by ranked.customer_key, ranked.weights_version
            order by tiers.min_segment_percentile desc
        ) as tier_rank

    from ranked
    inner join tiers
        on
            (
                ranked.event_count > 0
                and tiers.min_segment_percentile is not null
                and ranked.segment_percentile >= tiers.min_segment_percentile
            )
            or (ranked.event_count = 0 and tiers.min_segment_percentile is null)

),

final as (

    select
        ranked.customer_key,
        ranked.segment,
        ranked.weights_version,
        ranked.engagement_score,
        ranked.event_count,
        ranked.segment_percentile,
        tier_candidates.engagement_tier

    from ranked
    left join tier_candidates
        on
            ranked.customer_key = tier_candidates.customer_key
            and ranked.weights_version = tier_candidates.weights_version
            and tier_candidates.tier_rank = 1

)

select * from final
