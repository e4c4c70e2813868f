{#- Every customer the CRM knows at each scoring point, scored under every weights version:
    Σ w·n over the window and over the previous window (int_point_contributions), recency and
    breadth (int_point_activity), the change, the percentile rank within its segment at the
    point, the tier, and the four flags by rule (macro ces_flags; int_point_flags picks rule
    or probability). fct_customer_engagement reads the as-of point and the version in force;
    fct_weights_change_impact compares two versions at the as-of point; the backtest reads
    the backtest points. -#}
with

points as (

    select * from {{ ref('int_scoring_points') }}

),

customers as (

    select * from {{ ref('int_point_customers') }}

),

contributions as (

    select * from {{ ref('int_point_contributions') }}

),

activity as (

    select * from {{ ref('int_point_activity') }}

),

versions as (

    select * from {{ ref('int_weights_versions') }}

),

tiers as (

    select * from {{ ref('stg_seeds__engagement_tiers') }}

),

summed as (

    -- Σ w·n per point, version and customer, over the window and over the previous window
    select
        contributions.point_id,
        contributions.weights_version,
        contributions.customer_key,
        sum(contributions.contribution) as engagement_score,
        sum(contributions.previous_contribution) as previous_engagement_score,
        sum(contributions.event_count) as event_count

    from contributions
    group by contributions.point_id, contributions.weights_version, contributions.customer_key

),

scored as (

    select
        customers.point_id,
        versions.weights_version,
        customers.customer_key,
        customers.customer_id,
        customers.segment,
        customers.plan,
        customers.lifecycle_stage,
        activity.last_event_date,
        cast(coalesce(summed.engagement_score, 0) as decimal(18, 4)) as engagement_score,
        cast(coalesce(summed.previous_engagement_score, 0) as decimal(18, 4)) as previous_engagement_score,
        coalesce(summed.event_count, 0) as event_count,
        coalesce(activity.active_days, 0) as active_days,
        coalesce(activity.distinct_event_types, 0) as distinct_event_types

    from customers
    cross join versions
    left join summed
        on
            customers.point_id = summed.point_id
            and versions.weights_version = summed.weights_version
            and customers.customer_key = summed.customer_key
    left join activity
        on
            customers.point_id = activity.point_id
            and customers.customer_key = activity.customer_key

),

dated as (

    -- the point's date: recency is counted to it, and its version in force is marked
    select
        scored.*,
        points.point_kind,
        points.scoring_date,
        coalesce(scored.weights_version = points.weights_version, false) as is_version_in_force,
        {{ dbt.datediff('scored.last_event_date', 'points.scoring_date', 'day') }}
            as days_since_last_event

    from scored
    inner join points
        on scored.point_id = points.point_id

),

ranked as (

    select
        *,
        100 * percent_rank() over (
            partition by point_id, weights_version, segment
            order by engagement_score
        ) as segment_percentile,
        -- one type on every engine (DuckDB divides decimals as doubles, PostgreSQL keeps a
        -- numeric of any scale): the flags compare the same value, and a unit test's expected
        -- -40 is -40 everywhere. The cast is outside the case, so PostgreSQL keeps its scale.
        -- The mart rounds it to 2 decimals through this same type.
        {{ ces_decimal(
            "case when previous_engagement_score <> 0 then"
            ~ " 100.0 * (engagement_score - previous_engagement_score) / abs(previous_engagement_score) end",
            38, 10) }} as engagement_change_pct

    from dated

),

tier_ranges as (

    -- each tier with a threshold covers [its threshold, the next higher threshold): a tie at a
    -- threshold belongs to the higher tier (>=). One range join then gives each customer its
    -- tier, so ranked is read once (engines that inline a CTE used twice, as Spark does,
    -- computed the whole chain above twice)
    select
        engagement_tier,
        min_segment_percentile,
        lead(min_segment_percentile) over (order by min_segment_percentile) as next_min_segment_percentile

    from tiers
    where min_segment_percentile is not null

),

dormant_tier as (

    -- the tier whose threshold is null: customers with no scored event, whatever the rank
    select min(engagement_tier) as engagement_tier

    from tiers
    where min_segment_percentile is null

),

tiered as (

    select
        ranked.*,
        case
            when ranked.event_count = 0 then dormant_tier.engagement_tier
            else tier_ranges.engagement_tier
        end as engagement_tier

    from ranked
    cross join dormant_tier
    left join tier_ranges
        on
            ranked.event_count > 0
            and ranked.segment_percentile >= tier_ranges.min_segment_percentile
            and (
                tier_ranges.next_min_segment_percentile is null
                or ranked.segment_percentile < tier_ranges.next_min_segment_percentile
            )

),

flagged as (

    select
        *,
        {{ ces_flags() }}

    from tiered

)

select * from flagged
