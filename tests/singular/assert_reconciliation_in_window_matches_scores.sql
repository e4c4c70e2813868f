-- The events the reconciliation reports as scored in the window are exactly the events the
-- customer mart counts.
with

reconciled as (

    select sum(event_count) as scored_in_window

    from {{ ref('fct_event_reconciliation') }}
    where outcome = 'scored_in_window'

),

scored as (

    select sum(event_count) as mart_events

    from {{ ref('fct_customer_engagement') }}

)

select
    reconciled.scored_in_window,
    scored.mart_events,
    {{ ces_model_defect_fix() }} as how_to_fix

from reconciled
cross join scored
where coalesce(reconciled.scored_in_window, 0) <> coalesce(scored.mart_events, 0)
