{#- Fails with every row where `expression` is not true. -#}
{% test ces_expression_is_true(model, expression) %}

select *

from {{ model }}
where not ({{ expression }})

{% endtest %}
