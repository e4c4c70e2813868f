{#- Fails with every row where `expression` is not true (on a model, or under a column: the
    expression names the column itself). -#}
{% test ces_expression_is_true(model, expression, column_name=none, how_to_fix="fix the rows where the expression is false") %}

select
    *,
    '{{ how_to_fix | replace("'", "''") }}' as how_to_fix

from {{ model }}
where not ({{ expression }})

{% endtest %}
