{#- The how_to_fix of the tests that check the marts against each other: when they disagree,
    the models are wrong, not the user's data. -#}
{% macro ces_model_defect_fix() -%}
    'the marts disagree with each other, which is a defect in the project''s models, not in your data: '
    || 'nothing is published; report it with these rows'
{%- endmacro %}
