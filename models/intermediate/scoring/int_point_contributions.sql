{#- w_t · n_{c,t} per scoring point, weights version, customer key and event type, for the
    window and for the previous window, both with the same version (so a change between them
    reflects behaviour, not weights). The weight is the one that applies to the customer's
    segment at the point (its override, else the default; int_event_weights_resolved); a
    customer the CRM does not know at the point gets the defaults (segment null). An
    unweighted type gets weight null and contribution 0. -#}
with

event_counts as (

    select * from {{ ref('int_point_event_counts') }}

),

points as (

    select * from {{ ref('int_scoring_points') }}

),

customers as (

    select * from {{ ref('int_point_customers') }}

),

versions as (

    select * from {{ ref('int_weights_versions') }}

),

weights as (

    select * from {{ ref('int_event_weights_resolved') }}

),

weighted as (

    select
        event_counts.point_id,
        versions.weights_version,
        event_counts.customer_key,
        customers.segment,
        event_counts.event_type,
        event_counts.event_count,
        event_counts.previous_event_count,
        weights.weight,
        -- typed explicitly, so every engine keeps the same scale (PostgreSQL's numeric has none)
        cast(coalesce(weights.weight, 0) * event_counts.event_count as decimal(18, 4)) as contribution,
        cast(coalesce(weights.weight, 0) * event_counts.previous_event_count as decimal(18, 4))
            as previous_contribution,
        -- an unweighted type (weight null, adds 0) has no override either: the default applies
        coalesce(weights.weight_source, 'default') as weight_source,
        coalesce(versions.weights_version = points.weights_version, false) as is_version_in_force

    from event_counts
    inner join points
        on event_counts.point_id = points.point_id
    cross join versions
    left join customers
        on
            event_counts.point_id = customers.point_id
            and event_counts.customer_key = customers.customer_key
    left join weights
        on
            versions.weights_version = weights.weights_version
            and {{ ces_null_safe_equal('customers.segment', 'weights.segment') }}
            and event_counts.event_type = weights.event_type

)

select * from weighted
