{#- make suggest-thresholds: every flag's precision and recall on the backtest (the version in
    force at each backtest date) for each combination of a grid of thresholds, computed with
    the flag's own rule (ces_flag_rule), never a copy of it. One row per flag and combination:
    its outcome, its definition (rule), the thresholds as (threshold_1, value_1, threshold_2,
    value_2), true_positives, flagged, positives and population. The grid holds the current var
    values too. The flags with an outcome are also evaluated by probability (definition
    probability, macro ces_flag_probability_rule) for minimum probabilities 0.01 to 0.99 and
    the var's value, reading int_point_flags' probabilities (the calibration in force at the
    as-of date) at the same points. Compiled with
    `dbt compile --inline "{{ ces_flag_threshold_grid() }}"` and run by cestools/backtest.py. -#}
{% macro ces_flag_threshold_grid() -%}
    {%- set candidates = {
        'ces_trial_min_active_days': range(0, 31),
        'ces_trial_min_event_types': range(0, 13),
        'ces_churn_drop_pct': range(10, 101, 5),
        'ces_churn_inactive_days': range(1, 61),
        'ces_upsell_min_percentile': range(0, 101, 5),
        'ces_training_min_active_days': range(0, 31),
        'ces_training_max_event_types': range(0, 13),
    } -%}
    {%- set double = ces.ces_data_type('double') -%}
    {%- set by_probability = ces.ces_flag_probability_vars() -%}
with

population as (

    select
        population.flag,
        population.outcome,
        population.is_positive,
        scores.lifecycle_stage,
        scores.plan,
        scores.active_days,
        scores.distinct_event_types,
        scores.days_since_last_event,
        scores.engagement_change_pct,
        scores.segment_percentile,
        case population.flag
            {%- for flag in by_probability %}
                when '{{ flag }}' then flags.{{ flag }}_probability
            {%- endfor %}
        end as probability

    from {{ ref('int_backtest_population') }} as population
    inner join {{ ref('int_point_scores') }} as scores
        on
            population.backtest_date = scores.scoring_date
            and scores.point_kind = 'backtest'
            and population.weights_version = scores.weights_version
            and population.customer_key = scores.customer_key
    inner join {{ ref('int_point_flags') }} as flags
        on
            scores.point_id = flags.point_id
            and scores.weights_version = flags.weights_version
            and scores.customer_key = flags.customer_key
    where population.is_version_in_force and population.flag is not null

),

{% for flag, names in ces.ces_flag_threshold_vars().items() %}
grid_{{ loop.index }} as (

    select *
    from
        {%- for name in names %}
            (
                {%- set values = candidates[name] | list -%}
                {%- if var(name) | int not in values %}{% do values.append(var(name) | int) %}{% endif -%}
                {%- for value in values %}
                select {{ value }} as {{ name }}{% if not loop.last %} union all{% endif %}
                {%- endfor %}
            ) as values_{{ loop.index }}{{ " cross join" if not loop.last }}
        {%- endfor %}

),

evaluated_{{ loop.index }} as (

    {%- set thresholds = {} -%}
    {%- for name in names -%}{%- do thresholds.update({name: "grid." ~ name}) -%}{%- endfor %}

    select
        '{{ flag }}' as flag,
        max(population.outcome) as outcome,
        'rule' as definition,
        '{{ names[0] }}' as threshold_1,
        cast(grid.{{ names[0] }} as {{ double }}) as value_1,
        {{ "'" ~ names[1] ~ "'" if names | length > 1 else "cast(null as " ~ dbt.type_string() ~ ")" }} as threshold_2,
        cast({{ "grid." ~ names[1] if names | length > 1 else "null" }} as {{ double }}) as value_2,
        sum(case when population.is_positive and {{ ces.ces_flag_rule(flag, thresholds) }} then 1 else 0 end)
            as true_positives,
        sum(case when {{ ces.ces_flag_rule(flag, thresholds) }} then 1 else 0 end) as flagged,
        sum(case when population.is_positive then 1 else 0 end) as positives,
        count(*) as population

    from population
    cross join grid_{{ loop.index }} as grid
    where population.flag = '{{ flag }}'
    group by {% for name in names %}grid.{{ name }}{{ ", " if not loop.last }}{% endfor %}

),
{% endfor %}

probability_grid as (

    {#- 0.01 to 0.99, and each probability var that is set -#}
    {%- set minimums = [] %}
    {%- for minimum in range(1, 100) %}{% do minimums.append(minimum / 100) %}{% endfor %}
    {%- for setting in by_probability.values() if var(setting['var']) is not none %}
        {%- if var(setting['var']) not in minimums %}{% do minimums.append(var(setting['var'])) %}{% endif %}
    {%- endfor %}
    {%- for minimum in minimums %}
        select cast({{ minimum }} as {{ double }}) as min_probability{% if not loop.last %} union all{% endif %}
    {%- endfor %}

),

probability_evaluated as (

    select
        population.flag,
        max(population.outcome) as outcome,
        'probability' as definition,
        case population.flag
            {%- for flag, setting in by_probability.items() %}
                when '{{ flag }}' then '{{ setting['var'] }}'
            {%- endfor %}
        end as threshold_1,
        grid.min_probability as value_1,
        cast(null as {{ dbt.type_string() }}) as threshold_2,
        cast(null as {{ double }}) as value_2,
        sum(
            case
                when population.is_positive
                    and {{ ces.ces_flag_probability_rule('population.probability', 'grid.min_probability') }}
                    then 1
                else 0
            end
        ) as true_positives,
        sum(case when {{ ces.ces_flag_probability_rule('population.probability', 'grid.min_probability') }} then 1 else 0 end)
            as flagged,
        sum(case when population.is_positive then 1 else 0 end) as positives,
        count(*) as population

    from population
    cross join probability_grid as grid
    where population.flag in ('{{ by_probability | join("', '") }}')
    group by population.flag, grid.min_probability

),

evaluated as (

    {% for flag in ces.ces_flag_threshold_vars() -%}
        select * from evaluated_{{ loop.index }}
        union all
    {% endfor %}
    select * from probability_evaluated

)

select * from evaluated
{%- endmacro %}
