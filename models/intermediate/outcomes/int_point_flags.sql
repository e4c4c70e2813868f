{#- The four flags at every scoring point, weights version and customer, each by the definition
    the vars choose (macro ces_flag_definition): by its rule, as int_point_scores applies it
    (macro ces_flags), or, for a flag with an outcome whose var ces_<use>_min_probability is
    set, by that outcome's probability (int_outcome_probabilities) being at least the var.
    The probability is the calibration in force at the as-of date, at every point: the
    definition the mart applies today, measured on the past (on the dates it was fitted on
    too; fct_calibration_backtest measures each version on the dates it was not). A probability reads the score under the weights
    version in force, so a flag by probability is the same under every weights version at a
    point. A customer outside the outcome's population has no probability and is not flagged
    by it. fct_customer_engagement reads the as-of point; fct_flag_backtest the backtest
    points, so the mart and its backtest apply one definition. -#}
{#- The columns, one per flag: the flag by its definition and the definition's name; the
    probability of each flag's outcome and its horizon (a flag predicts at most one outcome:
    a test on seeds/ces_outcomes.csv). -#}
{%- set flag_columns = [] -%}
{%- for flag in ces_flag_threshold_vars() -%}
    {%- if ces_flag_definition(flag) == 'probability' -%}
        {%- set minimum = var(ces_flag_probability_vars()[flag]['var']) -%}
        {%- do flag_columns.append(
            ces_flag_probability_rule('flag_probabilities.' ~ flag ~ '_probability', minimum) ~ ' as ' ~ flag) -%}
    {%- else -%}
        {%- do flag_columns.append('scores.' ~ flag) -%}
    {%- endif -%}
    {%- do flag_columns.append("'" ~ ces_flag_definition(flag) ~ "' as " ~ flag ~ '_definition') -%}
{%- endfor -%}
{%- set outcome_columns = [] -%}
{%- for flag in ces_flag_probability_vars() -%}
    {%- do outcome_columns.append("max(case when definitions.flag = '" ~ flag
        ~ "' then probabilities.probability end) as " ~ flag ~ '_probability') -%}
    {%- do outcome_columns.append("max(case when definitions.flag = '" ~ flag
        ~ "' then probabilities.horizon_days end) as " ~ flag ~ '_horizon_days') -%}
    {#- max() and case drop the decimal's scale on PostgreSQL: cast back to the probability's type -#}
    {%- do flag_columns.append('cast(flag_probabilities.' ~ flag ~ '_probability as decimal(9, 6)) as '
        ~ flag ~ '_probability') -%}
    {%- do flag_columns.append('cast(flag_probabilities.' ~ flag ~ '_horizon_days as integer) as '
        ~ flag ~ '_horizon_days') -%}
{%- endfor %}
with

scores as (

    select * from {{ ref('int_point_scores') }}

),

definitions as (

    select * from {{ ref('stg_seeds__outcomes') }}
    where flag is not null

),

probabilities as (

    -- the calibration in force at the as-of date, at every point: the one the mart uses, so
    -- the backtest measures the flag the mart raises
    select * from {{ ref('int_outcome_probabilities') }}
    where is_calibration_current

),

flag_probabilities as (

    -- per point and customer: the probability of each flag's outcome and its horizon
    select
        probabilities.point_id,
        probabilities.customer_key,
        {{ outcome_columns | join(',\n        ') }}

    from probabilities
    inner join definitions
        on probabilities.outcome = definitions.outcome
    group by probabilities.point_id, probabilities.customer_key

),

final as (

    select
        scores.point_id,
        scores.point_kind,
        scores.scoring_date,
        scores.weights_version,
        scores.is_version_in_force,
        scores.customer_key,
        {{ flag_columns | join(',\n        ') }}

    from scores
    left join flag_probabilities
        on
            scores.point_id = flag_probabilities.point_id
            and scores.customer_key = flag_probabilities.customer_key

)

select * from final
