{#- The two weights versions to compare: vars ces_impact_base_version and
    ces_impact_compare_version, by default the version before the one in force at the as-of
    date and the one in force. -#}
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

chosen as (

    select
        {% if var('ces_impact_base_version') -%}
            '{{ var("ces_impact_base_version") }}'
        {%- else -%}
            coalesce(previous_version.weights_version, scoring_window.weights_version)
        {%- endif %} as base_version,
        {% if var('ces_impact_compare_version') -%}
            '{{ var("ces_impact_compare_version") }}'
        {%- else -%}
            scoring_window.weights_version
        {%- endif %} as compare_version

    from scoring_window
    left join previous_version
        on 1 = 1

)

select * from chosen
