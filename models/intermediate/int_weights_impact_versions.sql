{#- The two weights versions to compare: vars ces_impact_base_version and
    ces_impact_compare_version. By default, the version in force at the as-of date and the
    newest version, even one whose effective_from is still in the future (the one a weight-change
    pull request adds). When the version in force is the newest, the one before it and the
    version in force. -#}
with

scoring_window as (

    select * from {{ ref('int_scoring_window') }}

),

versions as (

    select * from {{ ref('int_weights_versions') }}

),

previous_version as (

    -- the version whose range ends where the version in force begins
    select versions.weights_version

    from versions
    inner join scoring_window
        on versions.effective_until = scoring_window.weights_effective_from

),

newest_version as (

    select weights_version

    from versions
    where effective_until is null

),

defaults as (

    select
        newest_version.weights_version as compare_version,
        case
            when newest_version.weights_version = scoring_window.weights_version
                then coalesce(previous_version.weights_version, scoring_window.weights_version)
            else scoring_window.weights_version
        end as base_version

    from scoring_window
    cross join newest_version
    left join previous_version
        on 1 = 1

),

chosen as (

    select
        {% if var('ces_impact_base_version') -%}
            '{{ var("ces_impact_base_version") }}' as base_version,
        {%- else -%}
            base_version,
        {%- endif %}
        {% if var('ces_impact_compare_version') -%}
            '{{ var("ces_impact_compare_version") }}' as compare_version
        {%- else -%}
            compare_version
        {%- endif %}

    from defaults

)

select * from chosen
