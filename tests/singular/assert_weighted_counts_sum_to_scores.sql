-- For every CRM customer, Σ_t weight × count over the as-of point's counts, with the version in
-- force, equals the mart score, and Σ_t count equals event_count.
with

weighted as (

    select
        customer_key,
        sum(coalesce(weight, 0) * event_count) as expected_score,
        sum(event_count) as expected_events

    from {{ ref('int_point_contributions') }}
    where point_id = 'as_of' and is_version_in_force
    group by customer_key

),

customers as (

    select * from {{ ref('int_customers_deduplicated') }}

),

scores as (

    select * from {{ ref('fct_customer_engagement') }}

)

select
    scores.customer_id,
    scores.engagement_score,
    {{ ces_model_defect_fix() }} as how_to_fix,
    coalesce(weighted.expected_score, 0) as expected_score

from scores
inner join customers
    on scores.customer_id = customers.customer_id
left join weighted
    on customers.customer_key = weighted.customer_key
where
    scores.engagement_score <> coalesce(weighted.expected_score, 0)
    or scores.event_count <> coalesce(weighted.expected_events, 0)
