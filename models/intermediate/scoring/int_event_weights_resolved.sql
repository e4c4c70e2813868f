{#- The weight each customer segment gets, per weights version and event type: the segment's
    override when the seed has one, else the version's default. One row per (version, segment,
    type) for every segment the CRM has had, plus a row with segment null carrying the defaults
    (for events whose customer the CRM does not know yet). Every scoring model joins this, so
    "which weight applies" is decided here only. -#}
with

weights as (

    select * from {{ ref('stg_weights__event_weights') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

defaults as (

    select
        weights_version,
        event_type,
        weight

    from weights
    where segment is null

),

overrides as (

    select
        weights_version,
        segment,
        event_type,
        weight

    from weights
    where segment is not null

),

segments as (

    -- every segment the CRM has had, so a scoring point whose CRM row is an older one (a
    -- backtest point) finds its segment's weights too
    select distinct segment

    from customers
    where customer_key is not null

),

by_segment as (

    select
        defaults.weights_version,
        segments.segment,
        defaults.event_type,
        coalesce(overrides.weight, defaults.weight) as weight,
        case when overrides.event_type is not null then 'segment' else 'default' end as weight_source

    from defaults
    cross join segments
    left join overrides
        on
            defaults.weights_version = overrides.weights_version
            and segments.segment = overrides.segment
            and defaults.event_type = overrides.event_type

),

unknown_customers as (

    select
        weights_version,
        cast(null as {{ dbt.type_string() }}) as segment,
        event_type,
        weight,
        'default' as weight_source

    from defaults

),

resolved as (

    select * from by_segment
    union all
    select * from unknown_customers

)

select * from resolved
