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


@register()
def engine_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """An unknown table engine, Spark settings it cannot use, or Spark on a machine without
    what it needs fail at start-up rather than at a worker's first table node."""
    from operators.engines import ENGINE_SETTING, ENGINES, SPARK_SETTING
    from operators.engines.spark import missing_for_spark, spark_conf

    options = settings.DATAGRAN
    name, master, remote = options["ENGINE"], options["SPARK_MASTER"], options["SPARK_REMOTE"]
    if name and name not in ENGINES:
        return [Error(f"{ENGINE_SETTING} must be one of {', '.join(ENGINES)} (or empty: "
                      f"spark when {SPARK_SETTING} or SPARK_REMOTE is set, else duckdb), not "
                      f"{name!r}.", id="datagran.E030")]
    errors: list[CheckMessage] = []
    try:
        spark_conf(options.get("SPARK_CONF", ""))
    except ValueError as exc:
        errors.append(Error(str(exc), id="datagran.E032"))
    if remote and not remote.startswith("sc://"):
        errors.append(Error(f"SPARK_REMOTE must be a Spark Connect URL (sc://host:15002), not "
                            f"{remote!r}.", id="datagran.E031"))
    if name == "spark" or (not name and (master or remote)):
        chosen = (f"SPARK_REMOTE={remote}" if remote else f"{SPARK_SETTING}={master}" if master
                  else f"{ENGINE_SETTING}=spark")
        missing = missing_for_spark(remote=bool(remote))
        if missing:
            errors.append(Error(f"{chosen} runs table nodes on Spark, but {missing}.",
                                id="datagran.E031"))
    return errors


PROXY_NOT_TRUSTED = (
    "DATAGRAN_HTTPS trusts a proxy's X-Forwarded-Proto, but DATAGRAN_TRUSTED_PROXIES is not "
    "set: the login throttle counts every client as the proxy's address. Set it to the number "
    "of proxies in front of the server (or their addresses).")
SECRET_KEY_NOT_SET = ("SECRET_KEY is not set in the environment (the key in DATA_DIR/secret_key "
                      "is the embedded default's): set one long random SECRET_KEY, the same for "
                      "every web, worker and scheduler process.")
