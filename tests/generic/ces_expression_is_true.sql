{#- Fails with every row where `expression` is not true. -#}
{% test ces_expression_is_true(model, expression, how_to_fix="fix the rows where the expression is false") %}

select
    *,
    '{{ how_to_fix | replace("'", "''") }}' as how_to_fix

from {{ model }}
where not ({{ expression }})

{% endtest %}
