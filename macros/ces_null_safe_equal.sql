{#- a = b where two nulls count as equal (`is not distinct from`, spelled so every engine and
    the linter's parser accept it). -#}
{% macro ces_null_safe_equal(left, right) -%}
    ({{ left }} = {{ right }} or ({{ left }} is null and {{ right }} is null))
{%- endmacro %}
