"""Settings, read from the environment. With nothing set, the embedded default: SQLite,
Dramatiq worker threads inside the web process, an in-memory channel layer and a local
artifact folder. Production sets DATABASE_URL, BROKER_URL, CHANNEL_LAYER_URL, SECRET_KEY."""
from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from datagran.core.env import (
    env,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_rate,
    env_trusted_proxies,
    kept_secret_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DATA_DIR = Path(env("DATAGRAN_DATA_DIR", str(BASE_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)
DEBUG = env_bool("DEBUG", False)
# Without SECRET_KEY in the environment (the embedded default), a random key made once and
# kept in DATA_DIR/secret_key (mode 0600); it also derives the connection secrets' Fernet key
# when DATAGRAN_SECRET_KEYS is unset. `check --deploy` insists on SECRET_KEY (datagran.E004).
SECRET_KEY_FROM_ENV = bool(env("SECRET_KEY"))
SECRET_KEY = env("SECRET_KEY") or kept_secret_key(DATA_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Production behind HTTPS (DATAGRAN_HTTPS=1): secure cookies, HSTS, redirect to https, and
# trust the proxy's X-Forwarded-Proto. Off in the embedded default, which serves plain http
# on loopback.
if env_bool("DATAGRAN_HTTPS"):
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_dramatiq",
    "django_vite",
    "datagran.core",
    "datagran.workspaces",
    "datagran.datasets",
    "datagran.pipelines",
    "datagran.connections",
    "datagran.runs",
    "datagran.registry",
    "datagran.serving",
    "datagran.schedules",
    "datagran.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "datagran.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "datagran.urls"
ASGI_APPLICATION = "datagran.asgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database ------------------------------------------------------------------------------
_sqlite_default = f"sqlite:///{DATA_DIR / 'datagran.sqlite3'}"
# A Dramatiq worker process keeps its database connection between messages (a new PostgreSQL
# connection per node costs the server a backend process, and the node its set-up). Under ASGI
# Django keeps a connection per request and closes it when the request ends, so a kept one
# would leak: the web server gives connections back to a pool instead (Django's psycopg pool;
# opening one per request made a one-row prediction 9 ms slower).
# Worker processes say so explicitly: `manage.py runworkers` (`make worker`) sets
# DATAGRAN_WORKER_PROCESS=1 for itself and its children; set it for any other worker command.
WORKER_PROCESS = env_bool("DATAGRAN_WORKER_PROCESS", False)
DATABASES = {"default": dj_database_url.parse(
    env("DATABASE_URL", _sqlite_default),
    conn_max_age=env_int("DATAGRAN_WORKER_DB_MAX_AGE", 300) if WORKER_PROCESS else 0,
    conn_health_checks=True)}
if DATABASES["default"]["ENGINE"].endswith("postgresql") and not WORKER_PROCESS:
    DATABASES["default"]["OPTIONS"] = {"pool": {
        "min_size": 1, "max_size": env_int("DATAGRAN_DB_POOL_SIZE", 20, minimum=1), "timeout": 30}}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Worker threads and the web server share the file: wait for locks instead of failing,
    # take the write lock at BEGIN (no upgrade deadlocks), and let readers run beside a writer.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # One test database per process: two test runs at once must not share a file.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sign-up applies all four of Django's validators (accounts made by an administrator or by
# tests bypass them).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in ("UserAttributeSimilarityValidator", "MinimumLengthValidator",
                 "CommonPasswordValidator", "NumericPasswordValidator")]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# The embedded default serves the built frontend straight from frontend/dist; production
# runs collectstatic and whitenoise serves STATIC_ROOT with far-future cache headers.
WHITENOISE_USE_FINDERS = True
STATICFILES_DIRS = [p for p in [BASE_DIR / "frontend" / "dist"] if p.exists()]
DJANGO_VITE = {
    "default": {
        "dev_mode": False,
        "manifest_path": BASE_DIR / "frontend" / "dist" / ".vite" / "manifest.json",
        "static_url_prefix": "",
    }
}

# --- API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "datagran.workspaces.authentication.ApiTokenAuthentication",  # personal and DRF tokens
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "datagran.core.exceptions.exception_handler",
    # A JSON body must be an object with finite numbers (datagran/core/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["datagran.core.parsers.JSONObjectParser",
                               "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # ?format= belongs to our download endpoints (csv, parquet), not to DRF's renderers.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Datagran API",
    "DESCRIPTION": "Build, run and watch machine-learning pipelines.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Every view declares its bodies (tests/api/test_schema.py fails on any warning), so the
    # deploy check would only repeat that test at every start.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    # Names of choice sets that would otherwise collide (a run's and a node's status) or be
    # too generic to stay unique (a lineage node's kind).
    "ENUM_NAME_OVERRIDES": {"RunStatusEnum": "datagran.runs.models.RunStatus.values",
                            "NodeStatusEnum": "datagran.runs.models.NodeStatus.values",
                            "LineageNodeKindEnum": "datagran.registry.serializers.LINEAGE_KINDS",
                            "RunScopeEnum": "datagran.runs.scope.SCOPES"},
    # Served from this server: nothing is fetched from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

CACHE_URL = env("CACHE_URL")
CACHES = {"default": (
    {"BACKEND": "datagran.core.cache.SharedPoolRedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"})}

# --- background work -------------------------------------------------------------------------
BROKER_URL = env("BROKER_URL")
_options: dict[str, object]
if BROKER_URL.startswith("redis"):
    _broker, _options = "dramatiq.brokers.redis.RedisBroker", {"url": BROKER_URL}
elif BROKER_URL.startswith("amqp"):
    _broker, _options = "dramatiq.brokers.rabbitmq.RabbitmqBroker", {
        "url": BROKER_URL, "confirm_delivery": True}
else:
    # Embedded default: the web process runs the worker threads over an in-process broker.
    _broker, _options = "dramatiq.brokers.stub.StubBroker", {}
EMBEDDED_WORKER = not BROKER_URL
DRAMATIQ_BROKER = {
    "BROKER": _broker,
    "OPTIONS": _options,
    "MIDDLEWARE": [
        "dramatiq.middleware.AgeLimit",
        "dramatiq.middleware.TimeLimit",
        "dramatiq.middleware.Callbacks",
        "dramatiq.middleware.Retries",
        "django_dramatiq.middleware.DbConnectionsMiddleware",
        # Thread count (each workspace's share) and graceful stop, from public hooks.
        "datagran.runs.slots.WorkerLifecycle",
        # A stopping worker sends the messages its last nodes queued before it exits.
        "datagran.runs.dispatch.FlushOnShutdown",
    ],
}
DRAMATIQ_AUTODISCOVER_MODULES = ["tasks"]

CHANNEL_LAYER_URL = env("CHANNEL_LAYER_URL")
CHANNEL_LAYERS = {
    "default": (
        # redis-py 8 reads with a 5 s socket timeout by default, the same 5 s a socket's
        # idle receive blocks in Redis: without a longer one, a websocket watching a node that
        # ran over 5 s without news died with "Timeout reading from" Redis.
        {"BACKEND": "channels_redis.core.RedisChannelLayer",
         "CONFIG": {"hosts": [{"address": CHANNEL_LAYER_URL, "socket_timeout": 30}],
                    "capacity": 1000}}
        if CHANNEL_LAYER_URL
        else {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
    )
}

# --- Datagran's own options, with defaults ---------------------------------------------------
DATAGRAN = {
    # The artifact store: a local folder (ARTIFACT_ROOT, its older name) or an fsspec URL
    # such as s3://bucket/prefix (credentials and endpoint from the standard AWS variables);
    # fsspec storage options as a JSON object for anything else.
    "ARTIFACTS_URL": env("DATAGRAN_ARTIFACTS_URL") or env("ARTIFACT_ROOT",
                                                          str(DATA_DIR / "artifacts")),
    "ARTIFACTS_OPTIONS": env("DATAGRAN_ARTIFACTS_OPTIONS"),
    # Node outputs a process keeps in memory for the nodes that read them next (0: none).
    "TABLE_MEMO_BYTES": env_int("DATAGRAN_TABLE_MEMO_MB", 512) * 1024 * 1024,
    "UPLOAD_MAX_BYTES": env_int("DATAGRAN_UPLOAD_MAX_BYTES", 100 * 1024 * 1024),
    # Tables bigger than memory (operators.engines): table nodes run on DuckDB (embedded, out
    # of core: it spills to ENGINE_TEMP_DIR past ENGINE_MEMORY_MB), on Spark when
    # DATAGRAN_SPARK_MASTER (local[2], spark://host:7077) or SPARK_REMOTE (Spark Connect)
    # names one, or in pandas ("pandas", as before). ENGINE_MEMORY_MB is also what a node
    # that reads a whole table into memory may use, per node.
    "ENGINE": env("DATAGRAN_ENGINE", ""),
    "ENGINE_MEMORY_MB": env_int("DATAGRAN_ENGINE_MEMORY_MB", 1024, minimum=64),
    "ENGINE_TEMP_DIR": env("DATAGRAN_ENGINE_TEMP_DIR", str(DATA_DIR / "engine")),
    "ENGINE_THREADS": env_int("DATAGRAN_ENGINE_THREADS", 2, minimum=1),
    "SPARK_MASTER": env("DATAGRAN_SPARK_MASTER", ""),
    "SPARK_REMOTE": env("SPARK_REMOTE", ""),
    # More Spark settings for the session a worker starts, as a JSON object
    # ({"spark.executor.memory": "4g"}); checked at start-up (datagran.E032).
    "SPARK_CONF": env("DATAGRAN_SPARK_CONF", ""),
    # The artifact store's size limit (0: none; `manage.py gc_artifacts` and the scheduler
    # evict least recently used artifacts nothing protects); runs this recent are kept.
    "ARTIFACT_MAX_BYTES": env_int("DATAGRAN_ARTIFACT_MAX_BYTES", 0),
    "ARTIFACT_KEEP_DAYS": env_int("DATAGRAN_ARTIFACT_KEEP_DAYS", 30),
    "UPLOAD_MAX_ROWS": env_int("DATAGRAN_UPLOAD_MAX_ROWS", 10000000),
    # Columns an upload may have (a pivot makes at most 1,000): every column's statistics
    # cost a query, so a 600 KB CSV of 50,000 columns took the server minutes.
    "UPLOAD_MAX_COLUMNS": env_int("DATAGRAN_UPLOAD_MAX_COLUMNS", 1000, minimum=1),
    # What an upload may decode to (Arrow bytes of a Parquet file, inflated members of an
    # Excel file), checked before the table is built: a small file can decode to gigabytes.
    "UPLOAD_MAX_DECODED_BYTES": env_int("DATAGRAN_UPLOAD_MAX_DECODED_BYTES", 1 << 30),
    "EMBEDDED_WORKER_THREADS": env_int("DATAGRAN_WORKER_THREADS", 4, minimum=1),
    # Requests a web process runs at once (the rest wait their turn in its event loop).
    "WEB_THREADS": env_int("DATAGRAN_WEB_THREADS", 4, minimum=1),
    "PREVIEW_MAX_ROWS": 500,
    # Fernet keys for connection secrets, newest first; empty: derived from SECRET_KEY.
    "SECRET_KEYS": env("DATAGRAN_SECRET_KEYS"),
    # Hosts or CIDR networks that user-configured URLs and database hosts may reach although
    # private/loopback.
    "URL_ALLOWLIST": env_list("DATAGRAN_URL_ALLOWLIST"),
    # The folder SQLite connections may open files in ("off": none); never one holding the
    # app's database or the artifact store (datagran.E110). Default: var/sqlite in the
    # embedded default, off in production (DATABASE_URL or BROKER_URL set).
    "SQLITE_ROOT": env("DATAGRAN_SQLITE_ROOT", "off" if env("DATABASE_URL") or env("BROKER_URL")
                       else str(DATA_DIR / "sqlite")),
    # The folder the files source (connector.files) may read in ("off": none), symlinks out
    # of it refused; never one holding the app's database or the artifact store
    # (datagran.E111). Default: var/files in the embedded default, off in production.
    "FILES_ROOT": env("DATAGRAN_FILES_ROOT", "off" if env("DATABASE_URL") or env("BROKER_URL")
                      else str(DATA_DIR / "files")),
    # Fault tolerance: a running node beats every HEARTBEAT_SECONDS; one silent for
    # HEARTBEAT_TIMEOUT_SECONDS is re-queued (its worker died) until NODE_MAX_ATTEMPTS.
    "HEARTBEAT_SECONDS": env_float("DATAGRAN_HEARTBEAT_SECONDS", 5),
    "HEARTBEAT_TIMEOUT_SECONDS": env_float("DATAGRAN_HEARTBEAT_TIMEOUT_SECONDS", 30),
    "NODE_MAX_ATTEMPTS": env_int("DATAGRAN_NODE_MAX_ATTEMPTS", 3, minimum=1),
    "RETRY_BACKOFF_SECONDS": env_float("DATAGRAN_RETRY_BACKOFF_SECONDS", 2),
    # Below RabbitMQ's consumer timeout (30 min by default), or a long node is redelivered.
    "NODE_TIME_LIMIT_SECONDS": env_int("DATAGRAN_NODE_TIME_LIMIT_SECONDS", 1200, minimum=1),
    "RABBITMQ_CONSUMER_TIMEOUT_SECONDS": env_int("DATAGRAN_RABBITMQ_CONSUMER_TIMEOUT_SECONDS",
                                                 1800),
    # A node queued this long without a worker taking it is sent again (the broker was
    # down, or lost the message).
    "RESEND_QUEUED_AFTER_SECONDS": env_float("DATAGRAN_RESEND_QUEUED_AFTER_SECONDS", 60),
    # Runs of one workspace executing at once; more wait as "pending". 0: no limit.
    "MAX_CONCURRENT_RUNS": env_int("DATAGRAN_MAX_CONCURRENT_RUNS", 0),
    # Rate limits: failed logins per user name and address (15 minutes), predictions per
    # caller (DRF rate syntax; empty: none).
    "LOGIN_FAILURES_LIMIT": env_int("DATAGRAN_LOGIN_FAILURES_LIMIT", 10, minimum=1),
    "PREDICT_RATE": env_rate("DATAGRAN_PREDICT_RATE", "6000/min"),
    # The proxies in front of the web server, whose X-Forwarded-For names the client: how
    # many (1) or their addresses/networks. 0: none, the client is the connection's address.
    "TRUSTED_PROXIES": env_trusted_proxies("DATAGRAN_TRUSTED_PROXIES"),
    # Whether anyone may create an account at /accounts/signup/.
    "SIGNUP": env_bool("DATAGRAN_SIGNUP", True),
    # How long a process serves the model version an alias pointed at before looking again.
    "SERVING_CACHE_SECONDS": env_float("DATAGRAN_SERVING_CACHE_SECONDS", 1),
    # Drift is flagged only once this many served requests were logged (fewer say little).
    "DRIFT_MIN_REQUESTS": env_int("DATAGRAN_DRIFT_MIN_REQUESTS", 100, minimum=1),
    # A websocket re-checks that its user is still a member of the workspace, and a run's
    # socket reads the events it has not seen from the database, this often (the channel
    # layer may lose events, a final one too).
    "SOCKET_POLL_SECONDS": env_float("DATAGRAN_SOCKET_POLL_SECONDS", 5, minimum=0.1),
    # Extra operator modules (DATAGRAN_OPERATOR_MODULES) are read by operators/registry.py,
    # which works without Django; a name that cannot be found fails django.setup().
}
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "datagran@localhost")
# A request body's limit on every route but the uploads (DATAGRAN_UPLOAD_MAX_BYTES): the
# server refuses a larger one by its headers, before reading it (datagran/core/bodylimit.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATAGRAN_REQUEST_MAX_BYTES", 4 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Secrets in request URLs (webhook and invitation tokens) are redacted from every line.
    "filters": {"redact": {"()": "datagran.core.logredact.RedactSecretsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
    "loggers": {"datagran": {"level": env("LOG_LEVEL", "INFO")},
                # Django's own (request logging among them) through the same handler only.
                "django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
