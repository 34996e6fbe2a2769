"""The catalogue entry of an operator (``Operator.describe()``), typed for the schema."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
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
    samples = serializers.BooleanField(help_text="The params form may ask for a sample of "
                                                 "the first rows (POST .../sample/).")


class OperatorOptionsInput(serializers.Serializer):
    workspace = serializers.UUIDField(required=False, help_text=(
        "The workspace whose connections the operator may use; the caller's own if left out."))
    params = ObjectField(required=False, help_text="The params filled in so far.")
    field = serializers.CharField(max_length=100, help_text=(
        "The param to list choices for (one marked \"x-options-from\": \"source\")."))

    def validate_params(self, value: object) -> object:
        if not isinstance(value, dict):
            raise serializers.ValidationError("must be a JSON object.")
        return value


class OperatorOptionsOutput(serializers.Serializer):
    options = serializers.ListField(child=serializers.CharField())


class OperatorSampleInput(serializers.Serializer):
    workspace = serializers.UUIDField(required=False, help_text=(
        "The workspace whose connections the operator may use; the caller's own if left out."))
    params = ObjectField(required=False, help_text="The source's params.")

    def validate_params(self, value: object) -> object:
        if not isinstance(value, dict):
            raise serializers.ValidationError("must be a JSON object.")
        return value


class SampleColumnOutput(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()


@extend_schema_field({"type": "array", "items": {"type": "array", "items": {}}})
class SampleRowsField(serializers.JSONField):
    """Rows as lists of values, in the order of the columns."""


class OperatorSampleOutput(serializers.Serializer):
    columns = SampleColumnOutput(many=True)
    rows = SampleRowsField()
