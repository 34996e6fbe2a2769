"""System checks with stable ids: a broken operator or setting fails at start-up."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register()
def operator_registry_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    from operators.registry import check_registry

    return [Error(problem, id="datagran.E001") for problem in check_registry()]


@register()
def broker_url_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    url = settings.BROKER_URL
    if url and not url.startswith(("redis://", "rediss://", "amqp://", "amqps://")):
        return [Error(f"BROKER_URL must start with redis:// or amqp://, not {url[:12]!r}",
                      id="datagran.E002")]
    return []


@register()
def rabbitmq_time_limit_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
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
def secret_key_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    # The key kept in DATA_DIR/secret_key is one machine's: every web process, worker and
    # scheduler of a deployment must share one key (sessions, the connection secrets' key).
    if not settings.SECRET_KEY_FROM_ENV:
        return [Error(SECRET_KEY_NOT_SET, id="datagran.E004")]
    return []


@register(Tags.security, deploy=True)
def trusted_proxies_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Behind a proxy every request comes from the proxy's address: the login throttle would
    count everyone together (anyone could lock a user out)."""
    if settings.SECURE_PROXY_SSL_HEADER and not settings.DATAGRAN["TRUSTED_PROXIES"]:
        return [Warning(PROXY_NOT_TRUSTED, id="datagran.W005")]
    return []


PROXY_NOT_TRUSTED = (
    "DATAGRAN_HTTPS trusts a proxy's X-Forwarded-Proto, but DATAGRAN_TRUSTED_PROXIES is not "
    "set: the login throttle counts every client as the proxy's address. Set it to the number "
    "of proxies in front of the server (or their addresses).")
SECRET_KEY_NOT_SET = ("SECRET_KEY is not set in the environment (the key in DATA_DIR/secret_key "
                      "is the embedded default's): set one long random SECRET_KEY, the same for "
                      "every web, worker and scheduler process.")
