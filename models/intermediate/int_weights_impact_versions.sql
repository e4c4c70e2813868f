{#- The two weights versions to compare: vars ces_impact_base_version and
    ces_impact_compare_version, by default the version before the one in force at the as-of
    date and the one in force. -#}
with

scoring_window as (

    select * from {{ ref('int_scoring_window') }}

),

weights as (

    select * from {{ ref('stg_weights__event_weights') }}

),

versions as (

    select distinct
        weights_version,
        effective_from

    from weights

),

earlier as (

    select
        versions.weights_version,
        row_number() over (order by versions.effective_from desc) as recency

    from versions
    cross join scoring_window
    where versions.effective_from < scoring_window.weights_effective_from

),

chosen as (

    select
        {% if var('ces_impact_base_version') -%}
            '{{ var("ces_impact_base_version") }}'
        {%- else -%}
            coalesce(earlier.weights_version, scoring_window.weights_version)
        {%- endif %} as base_version,
        {% if var('ces_impact_compare_version') -%}
            '{{ var("ces_impact_compare_version") }}'
        {%- else -%}
            scoring_window.weights_version
        {%- endif %} as compare_version

    from scoring_window
    left join earlier
        on earlier.recency = 1

)

select * from chosen
