-- A new weights version weights every event type the version before it weighted. A type left
-- out would silently score 0 from the day the new version takes effect. To retire a type, keep
-- its row with weight 0 and say why in description.
with

-- the defaults (every override needs one: assert_weights_overrides_have_a_default), read once
-- per side: DuckDB 2.0.0 can lose a filter when an anti join reads one CTE twice
previous_weights as (

    select * from {{ ref('stg_weights__event_weights') }}
    where segment is null

),

successor_weights as (

    select * from {{ ref('stg_weights__event_weights') }}
    where segment is null

),

versions as (

    select * from {{ ref('int_weights_versions') }}

),

successions as (

    -- each version with the one whose range ends where it begins
    select
        previous.weights_version as previous_version,
        successor.weights_version

    from versions as previous
    inner join versions as successor
        on previous.effective_until = successor.effective_from

),

left_out as (

    select
        successions.weights_version,
        successions.previous_version,
        previous_weights.event_type

    from successions
    inner join previous_weights
        on successions.previous_version = previous_weights.weights_version
    left join successor_weights
        on
            successions.weights_version = successor_weights.weights_version
            and previous_weights.event_type = successor_weights.event_type
    where successor_weights.event_type is null

)

select
    weights_version,
    event_type,
    previous_version,
    'weights version ' || weights_version || ' leaves out ' || event_type || ', which '
    || previous_version || ' weighted: add a row for it to ' || weights_version
    || ' in seeds/ces_event_weights.csv (weight 0 with a description to retire it)' as how_to_fix

from left_out
