-- A host model on a CES mart: the accounts flagged as close to churn, for the success team.
select
    customer_id,
    segment,
    engagement_score,
    engagement_tier

from {{ ref('ces', 'fct_customer_engagement') }}
where is_churn_risk
