{#- Every weight that applies, per weights version, segment and event type, with the dates the
    version is in force: what the dashboard's weights lab scores a what-if with, and what a BI
    tool shows beside a score. The rows with segment null carry the version's defaults. -#}
with

resolved as (

    select * from {{ ref('int_event_weights_resolved') }}

),

weights as (

    select * from {{ ref('stg_weights__event_weights') }}

),

versions as (

    select * from {{ ref('int_weights_versions') }}

),

scoring_window as (

    select * from {{ ref('int_scoring_window') }}

),

described as (

    select
        resolved.weights_version,
        versions.effective_from,
        versions.effective_until,
        resolved.segment,
        resolved.event_type,
        resolved.weight,
        resolved.weight_source,
        resolved.weights_version = scoring_window.weights_version as is_in_force,
        coalesce(overrides.description, version_defaults.description) as description

    from resolved
    inner join versions
        on resolved.weights_version = versions.weights_version
    cross join scoring_window
    left join weights as overrides
        on
            resolved.weight_source = 'segment'
            and resolved.weights_version = overrides.weights_version
            and resolved.segment = overrides.segment
            and resolved.event_type = overrides.event_type
    left join weights as version_defaults
        on
            resolved.weights_version = version_defaults.weights_version
            and version_defaults.segment is null
            and resolved.event_type = version_defaults.event_type

),

final as (

    select
        cast(weights_version as {{ dbt.type_string() }}) as weights_version,
        cast(effective_from as date) as effective_from,
        cast(effective_until as date) as effective_until,
        cast(is_in_force as boolean) as is_in_force,
        cast(segment as {{ dbt.type_string() }}) as segment,
        cast(event_type as {{ dbt.type_string() }}) as event_type,
        cast(weight as decimal(12, 4)) as weight,
        cast(weight_source as {{ dbt.type_string() }}) as weight_source,
        cast(description as {{ dbt.type_string() }}) as description

    from described

)

select * from final
