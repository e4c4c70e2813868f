{#- The rule of each flag, written once. ces_flag_rule(flag, thresholds) is the boolean
    expression of one flag over a row that has lifecycle_stage, plan, active_days,
    distinct_event_types, days_since_last_event, engagement_change_pct and segment_percentile;
    `thresholds` maps each threshold var to a SQL expression (a number, or a column of a grid).
    ces_flags() gives the four flag columns with the thresholds of the vars: int_point_scores
    applies them at every scoring point, so the backtest measures exactly the rules the mart
    applies. ces_flag_threshold_grid() (make suggest-thresholds) evaluates the same rules over
    the backtest for a grid of thresholds.
    A flag that has an outcome can be defined by probability instead (ces_flag_definition):
    when its var ces_<use>_min_probability is set, int_point_flags raises it for a customer
    whose probability of the outcome (int_outcome_probabilities) is at least that var.
    Calls between these macros say `ces.`: make suggest-thresholds compiles the grid as the root
    project's inline SQL, and in a host project that installs CES as a package, CES's macros
    are found there only by their package's name. -#}

{% macro ces_flag_threshold_vars() -%}
    {{ return({
        'is_trial_conversion_candidate': ['ces_trial_min_active_days', 'ces_trial_min_event_types'],
        'is_churn_risk': ['ces_churn_drop_pct', 'ces_churn_inactive_days'],
        'is_upsell_candidate': ['ces_upsell_min_percentile'],
        'needs_training': ['ces_training_min_active_days', 'ces_training_max_event_types'],
    }) }}
{%- endmacro %}

{% macro ces_flag_rule(flag, thresholds) -%}
    {%- if flag == 'is_trial_conversion_candidate' -%}
        (
            lifecycle_stage = 'trial'
            and active_days >= {{ thresholds['ces_trial_min_active_days'] }}
            and distinct_event_types >= {{ thresholds['ces_trial_min_event_types'] }}
        )
    {%- elif flag == 'is_churn_risk' -%}
        (
            lifecycle_stage = 'active'
            and (
                coalesce(engagement_change_pct <= -{{ thresholds['ces_churn_drop_pct'] }}, false)
                or coalesce(days_since_last_event, 9999) >= {{ thresholds['ces_churn_inactive_days'] }}
            )
        )
    {%- elif flag == 'is_upsell_candidate' -%}
        (
            lifecycle_stage = 'active'
            and plan in ('{{ var("ces_upsell_plans") | join("', '") }}')
            and segment_percentile >= {{ thresholds['ces_upsell_min_percentile'] }}
        )
    {%- elif flag == 'needs_training' -%}
        (
            lifecycle_stage = 'active'
            and active_days >= {{ thresholds['ces_training_min_active_days'] }}
            and distinct_event_types <= {{ thresholds['ces_training_max_event_types'] }}
        )
    {%- else -%}
        {{ exceptions.raise_compiler_error("ces_flag_rule: unknown flag " ~ flag) }}
    {%- endif -%}
{%- endmacro %}

{% macro ces_flags() -%}
    {%- set thresholds = {} -%}
    {%- for names in ces.ces_flag_threshold_vars().values() -%}
        {%- for name in names -%}
            {%- do thresholds.update({name: var(name)}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for flag in ces.ces_flag_threshold_vars() -%}
        {{ ces.ces_flag_rule(flag, thresholds) }} as {{ flag }}{{ "," if not loop.last }}
    {% endfor -%}
{%- endmacro %}

{#- The flags that can be defined by probability: the var holding the minimum probability
    (null: the rule) and the words a flag reason uses for the outcome. -#}
{% macro ces_flag_probability_vars() -%}
    {{ return({
        'is_trial_conversion_candidate': {'var': 'ces_trial_min_probability', 'words': 'conversion'},
        'is_churn_risk': {'var': 'ces_churn_min_probability', 'words': 'churn'},
        'is_upsell_candidate': {'var': 'ces_upsell_min_probability', 'words': 'upgrade'},
    }) }}
{%- endmacro %}

{#- 'probability' when the flag's var ces_<use>_min_probability is set, else 'rule'. -#}
{% macro ces_flag_definition(flag) -%}
    {%- set by_probability = ces.ces_flag_probability_vars().get(flag) -%}
    {{ return('probability' if by_probability and var(by_probability['var']) is not none else 'rule') }}
{%- endmacro %}

{#- The probability definition of a flag, written once: raised when the probability of its
    outcome is at least the minimum; never without a probability. -#}
{% macro ces_flag_probability_rule(probability, minimum) -%}
    coalesce({{ probability }} >= {{ minimum }}, false)
{%- endmacro %}
