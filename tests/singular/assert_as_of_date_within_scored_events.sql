-- The as-of date lies between the first and the newest scored event. Outside that range the
-- window holds no event and every customer would score 0 (and look like a churn risk), so the
-- build fails unless var('ces_allow_empty_window') asks for an empty window on purpose.
{%- set allow_empty = var('ces_allow_empty_window') %}

with

scoring_window as (

    select * from {{ ref('int_scoring_window') }}

),

daily_events as (

    select * from {{ ref('int_engagement_events_daily') }}

),

scored_range as (

    select
        min(event_date) as first_event_date,
        max(event_date) as newest_event_date

    from daily_events
    where record_status = 'scored'

)

select
    scoring_window.as_of_date,
    scored_range.first_event_date,
    scored_range.newest_event_date,
    case
        when scored_range.newest_event_date is null
            then
                'there is no scored event at all, so every customer would score 0: load events '
                || 'into {{ var("ces_raw_schema") }}.product_events, or set '
                || 'ces_allow_empty_window: true to build empty scores on purpose'
        else
            'the as-of date ' || cast(scoring_window.as_of_date as {{ dbt.type_string() }})
            || ' is outside the scored events (first '
            || cast(scored_range.first_event_date as {{ dbt.type_string() }})
            || ', newest ' || cast(scored_range.newest_event_date as {{ dbt.type_string() }})
            || '), so every customer would score 0: set ces_as_of_date between them (or null '
            || 'for the newest), or set ces_allow_empty_window: true to build an empty window '
            || 'on purpose'
    end as how_to_fix

from scoring_window
cross join scored_range
where
    {{ 'false' if allow_empty else 'true' }}
    and (
        scored_range.newest_event_date is null
        or scoring_window.as_of_date > scored_range.newest_event_date
        or scoring_window.as_of_date < scored_range.first_event_date
    )
