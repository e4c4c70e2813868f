-- Each segment's total and customer count equal the sums over its customers.
with

customers as (

    select
        segment,
        count(*) as customers,
        sum(engagement_score) as total_engagement_score

    from {{ ref('fct_customer_engagement') }}
    group by segment

),

segments as (

    select * from {{ ref('fct_segment_engagement') }}

)

select
    customers.segment as segment_in_customers,
    segments.segment as segment_in_segments,
    customers.total_engagement_score as sum_of_customer_scores,
    segments.total_engagement_score as segment_total,
    {{ ces_model_defect_fix() }} as how_to_fix

from customers
full outer join segments
    on customers.segment = segments.segment
where
    customers.segment is null
    or segments.segment is null
    or customers.customers <> segments.customers
    or customers.total_engagement_score <> segments.total_engagement_score
