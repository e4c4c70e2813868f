{#- The features a calibration uses, written once: name -> (SQL over a row of
    int_outcome_population, description). int_outcome_features computes one column
    feature_<name> per entry, int_outcome_probabilities multiplies each by the coefficient of
    the seed row whose term is <name>, fct_customer_outcome_probability shows them, the seed's
    term test accepts exactly these names (and intercept), and `make calibrate` fits one
    coefficient per feature_ column it finds. Each is known at the point's date D. -#}
{% macro ces_outcome_features() -%}
    {{ return({
        'segment_percentile': {
            'sql': 'segment_percentile / 100.0',
            'description': "The score's percentile rank in its segment at D, as a share (0 to 1).",
        },
        'score_change': {
            'sql': "case when previous_engagement_score <> 0 then"
                   ~ " least(greatest(cast(engagement_change_pct as " ~ ces_data_type('double') ~ ") / 100.0, -1.0), 1.0)"
                   ~ " when engagement_score > previous_engagement_score then 1.0"
                   ~ " when engagement_score < previous_engagement_score then -1.0 else 0.0 end",
            'description': "The score's change against the window before, as a share clipped to -1 and 1 (a score that rose from 0 counts 1).",
        },
        'days_since_last_event': {
            'sql': 'least(coalesce(days_since_last_event, 90), 90)',
            'description': 'Days from the last scored event to D, capped at 90 (90 when there is none).',
        },
        'active_days': {
            'sql': 'active_days',
            'description': 'Days with at least one scored event in the window ending D.',
        },
        'distinct_event_types': {
            'sql': 'distinct_event_types',
            'description': 'Product event types used in the window ending D.',
        },
    }) }}
{%- endmacro %}

{#- The select-list pieces the outcome models need, one per feature, from the list above. -#}

{#- int_outcome_features: each feature as a double column feature_<name> -#}
{% macro ces_outcome_feature_columns() -%}
    {%- for name, feature in ces_outcome_features().items() -%}
        cast({{ feature.sql }} as {{ ces_data_type('double') }}) as feature_{{ name }}{{ "," if not loop.last }}
    {% endfor -%}
{%- endmacro %}

{#- int_outcome_probabilities: the feature columns of a relation, by name -#}
{% macro ces_outcome_feature_names(relation) -%}
    {%- for name in ces_outcome_features() -%}
        {{ relation }}.feature_{{ name }}{{ "," if not loop.last }}
    {% endfor -%}
{%- endmacro %}

{#- int_outcome_probabilities: per calibration version, each feature's coefficient (0 without a row) -#}
{% macro ces_outcome_coefficient_columns() -%}
    {%- for name in ces_outcome_features() -%}
        sum(case when term = '{{ name }}' then cast(coefficient as {{ ces_data_type('double') }}) else 0 end)
        as coefficient_{{ name }}{{ "," if not loop.last }}
    {% endfor -%}
{%- endmacro %}

{#- int_outcome_probabilities: Σ coefficient · feature -#}
{% macro ces_outcome_linear_sum(coefficients, features) -%}
    {%- set terms = [] -%}
    {%- for name in ces_outcome_features() -%}
        {%- do terms.append(coefficients ~ '.coefficient_' ~ name ~ ' * ' ~ features ~ '.feature_' ~ name) -%}
    {%- endfor -%}
    {{ terms | join(' + ') }}
{%- endmacro %}

{#- fct_customer_outcome_probability: each feature under its own name, rounded for the contract -#}
{% macro ces_outcome_feature_decimals() -%}
    {%- for name in ces_outcome_features() -%}
        {{ ces_decimal('feature_' ~ name, 12, 6) }} as {{ name }}{{ "," if not loop.last }}
    {% endfor -%}
{%- endmacro %}
