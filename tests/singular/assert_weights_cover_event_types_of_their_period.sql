-- Warns when a weights version has no weight for an event type that was scored in its period
-- [effective_from, effective_until): such events count but add 0 points. The warning names
-- each version and type.
{{ config(severity='warn') }}

with

daily_events as (

    select * from {{ ref('int_engagement_events_daily') }}

),

weights as (

    -- the defaults: every override needs one (assert_weights_overrides_have_a_default)
    select * from {{ ref('stg_weights__event_weights') }}
    where segment is null

),

versions as (

    select * from {{ ref('int_weights_versions') }}

),

types_in_period as (

    select
        versions.weights_version,
        daily_events.event_type,
        sum(daily_events.event_count) as scored_events

    from daily_events
    inner join versions
        on
            daily_events.event_date >= versions.effective_from
            and (versions.effective_until is null or daily_events.event_date < versions.effective_until)
    where daily_events.record_status = 'scored'
    group by versions.weights_version, daily_events.event_type

)

select
    types_in_period.weights_version,
    types_in_period.event_type,
    types_in_period.scored_events,
    'events of type ' || types_in_period.event_type || ' were scored while '
    || types_in_period.weights_version || ' was in force, but it has no weight for them (they add 0): add '
    || types_in_period.event_type || ' to ' || types_in_period.weights_version
    || ' in seeds/ces_event_weights.csv, or rename the event at the source' as how_to_fix

from types_in_period
left join weights
    on
        types_in_period.weights_version = weights.weights_version
        and types_in_period.event_type = weights.event_type
where weights.event_type is null
