"""System checks with stable ids: a broken operator or setting fails at start-up."""
from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register()
def operator_registry_check(app_configs, **kwargs):  # noqa: ANN001, ANN201
    from operators.registry import check_registry

    return [Error(problem, id="datagran.E001") for problem in check_registry()]


@register()
def broker_url_check(app_configs, **kwargs):  # noqa: ANN001, ANN201
    url = settings.BROKER_URL
    if url and not url.startswith(("redis://", "rediss://", "amqp://", "amqps://")):
        return [Error(f"BROKER_URL must start with redis:// or amqp://, not {url[:12]!r}",
                      id="datagran.E002")]
    return []


@register()
def rabbitmq_time_limit_check(app_configs, **kwargs):  # noqa: ANN001, ANN201
    """RabbitMQ redelivers a message whose consumer holds it past consumer_timeout: a node
    allowed to run longer would be started again and again."""
    options = settings.DATAGRAN
    if settings.BROKER_URL.startswith("amqp") and (
            options["NODE_TIME_LIMIT_SECONDS"] >= options["RABBITMQ_CONSUMER_TIMEOUT_SECONDS"]):
        return [Error(
            f"DATAGRAN_NODE_TIME_LIMIT_SECONDS ({options['NODE_TIME_LIMIT_SECONDS']}) must be "
            "below RabbitMQ's consumer timeout "
            f"({options['RABBITMQ_CONSUMER_TIMEOUT_SECONDS']} s, "
            "DATAGRAN_RABBITMQ_CONSUMER_TIMEOUT_SECONDS).", id="datagran.E003")]
    return []


@register(Tags.security, deploy=True)
def secret_key_check(app_configs, **kwargs):  # noqa: ANN001, ANN201
    if settings.SECRET_KEY == settings.EMBEDDED_SECRET_KEY:
        return [Error("SECRET_KEY is the embedded default: set a long random SECRET_KEY in "
                      "the environment for production.", id="datagran.E004")]
    return []
