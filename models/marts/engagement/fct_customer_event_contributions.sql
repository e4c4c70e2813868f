with

customers as (

    select * from {{ ref('int_customers_deduplicated') }}

),

event_types as (

    select * from {{ ref('int_point_contributions') }}
    where point_id = 'as_of' and is_version_in_force

),

scoring_window as (

    select * from {{ ref('int_scoring_window') }}

),

scores as (

    -- the score itself comes from the one place that computes it
    select * from {{ ref('int_point_scores') }}
    where point_id = 'as_of'

),

final as (

    select
        customers.customer_id,
        customers.segment,
        event_types.event_type,
        cast(event_types.event_count as bigint) as event_count,
        cast(event_types.weight as decimal(12, 4)) as weight,
        event_types.weight_source,
        cast(event_types.contribution as decimal(18, 4)) as contribution,
        {{ ces_decimal(
            "case when scores.engagement_score <> 0 then event_types.contribution / scores.engagement_score end", 18, 6
        ) }} as share_of_score,
        scoring_window.weights_version,
        scoring_window.window_start,
        scoring_window.window_end

    from event_types
    inner join customers
        on event_types.customer_key = customers.customer_key
    cross join scoring_window
    inner join scores
        on
            event_types.customer_key = scores.customer_key
            and scoring_window.weights_version = scores.weights_version
    where event_types.event_count > 0

)

select * from final
