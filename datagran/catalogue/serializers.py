"""The catalogue entry of an operator (``Operator.describe()``), typed for the schema."""
from __future__ import annotations

from rest_framework import serializers

from datagran.core.fields import ObjectField


class PortOutput(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField(help_text="table, model, or another declared port type.")
    label = serializers.CharField()
    optional = serializers.BooleanField()


class OperatorOutput(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    icon = serializers.CharField()
    keywords = serializers.ListField(child=serializers.CharField())
    version = serializers.CharField()
    inputs = PortOutput(many=True)
    outputs = PortOutput(many=True)
    params_schema = ObjectField(help_text="The JSON Schema of the params: the form is built "
                                          "from it.")
    stateful = serializers.BooleanField()
    batch_only = serializers.BooleanField()
    cacheable = serializers.BooleanField()
