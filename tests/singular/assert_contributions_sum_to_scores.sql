-- Every customer's event-type contributions sum to its engagement_score (and the counts to
-- its event_count); a customer without contribution rows scores 0.
with

contributions as (

    select
        customer_id,
        sum(contribution) as total_contribution,
        sum(event_count) as total_events

    from {{ ref('fct_customer_event_contributions') }}
    group by customer_id

),

scores as (

    select * from {{ ref('fct_customer_engagement') }}

)

select
    scores.customer_id,
    scores.engagement_score,
    contributions.total_contribution,
    {{ ces_model_defect_fix() }} as how_to_fix

from scores
left join contributions
    on scores.customer_id = contributions.customer_id
where
    scores.engagement_score <> coalesce(contributions.total_contribution, 0)
    or scores.event_count <> coalesce(contributions.total_events, 0)
