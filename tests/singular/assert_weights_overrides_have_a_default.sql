-- Every segment override has a default to fall back to: a row with an empty segment for the
-- same version and event type. Without one, customers of other segments would have no weight
-- for the type, and the override would silently be the only weight.
-- Each side reads the model itself: DuckDB 2.0.0 drops a reference's own filter when it turns
-- `left join ... where right.x is null` over a CTE used twice into an anti join, and would
-- then find no row.
with

defaults as (

    select
        weights_version,
        event_type

    from {{ ref('stg_weights__event_weights') }}
    where segment is null

),

overrides as (

    select
        weights_version,
        segment,
        event_type

    from {{ ref('stg_weights__event_weights') }}
    where segment is not null

)

select
    overrides.weights_version,
    overrides.segment,
    overrides.event_type,
    'the override of ' || overrides.event_type || ' for ' || overrides.segment || ' in '
    || overrides.weights_version || ' has no default: add a row for ' || overrides.event_type
    || ' with an empty segment to ' || overrides.weights_version
    || ' in seeds/ces_event_weights.csv' as how_to_fix

from overrides
left join defaults
    on
        overrides.weights_version = defaults.weights_version
        and overrides.event_type = defaults.event_type
where defaults.event_type is null
