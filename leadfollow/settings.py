"""LeadFollow settings: one module, read from the environment (django-environ).

Development needs nothing set: SQLite and Celery's filesystem broker under var/.
Production sets DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("LEADFOLLOW_VAR_DIR", default=str(BASE_DIR / "var")))


class StrictEnv(environ.Env):
    """django-environ, but a malformed value (PORT=abc, DEBUG=maybe) is an ImproperlyConfigured naming the variable."""

    BOOLEAN_STRINGS = {"true", "on", "ok", "y", "yes", "1", "false", "off", "n", "no", "0", ""}

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        if cast is bool and var in self.ENVIRON and self.ENVIRON[var].strip().lower() not in self.BOOLEAN_STRINGS:
            raise ImproperlyConfigured(f"{var} must be a boolean (1/0, true/false), got {self.ENVIRON[var]!r}.")
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(f"{var} has an invalid value {self.ENVIRON.get(var)!r}: {exc}") from exc


env = StrictEnv()
env.smart_cast = False

DEBUG = env.bool("DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
else:
    try:
        SECRET_KEY = env.str("SECRET_KEY")
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.") from exc
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    # Email providers' webhooks (bounces, complaints, inbound replies) under /webhooks/anymail/.
    "anymail",
    "axes",
    "simple_history",
    "accounts",
    "leads",
    "cadences",
    "messaging",
    "intake",
    "reports",
    "today",
    # The project as an app: periodic schedules synced into django-celery-beat (leadfollow/schedules.py).
    "leadfollow",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Signed-in pages (and the unsubscribe page) are private, no-store: no shared or back-button cache.
    "leadfollow.middleware.PrivatePagesNoStoreMiddleware",
    # The Content-Security-Policy header (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    # Lead and cadence history rows record the user who made the change.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "leadfollow.urls"
WSGI_APPLICATION = "leadfollow.wsgi.application"
ASGI_APPLICATION = "leadfollow.asgi.application"

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
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# SQLite by default (embedded, zero setup); DATABASE_URL switches to PostgreSQL.
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'leadfollow.sqlite3'}")}
if not DATABASES["default"].get("ENGINE"):
    raise ImproperlyConfigured("DATABASE_URL is not a database URL (e.g. postgres://user:password@host:5432/name).")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one file: WAL plus a busy timeout
    # and IMMEDIATE transactions keep them from failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's JIT compiles a report's plan for longer than the query runs (1.1 s of a 1.14 s
    # compliance query at 1M touches, `make bench`): these are short OLTP and report queries.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["options"] = "-c jit=off"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): 5 wrong passwords for one username from one IP lock that pair
# out for 15 minutes. The standalone backend only counts; ModelBackend still authenticates (and
# is what the test client's force_login picks, as the first backend with get_user()).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The client address the lockout counts by. TRUSTED_PROXY_COUNT=0 (no proxy): REMOTE_ADDR, and
# X-Forwarded-For is never read, so a made-up header neither locks out another address nor dodges
# a lockout. Behind N reverse proxies that each append the address they saw to X-Forwarded-For
# (nginx's $proxy_add_x_forwarded_for, Caddy, Traefik), the client is the Nth entry from the right;
# entries to its left came from the client and are ignored. django-ipware (axes' resolver) is given
# the proxies listed in the header after the client, N - 1 (the last proxy is REMOTE_ADDR, not in
# the header), and takes the entry just before them; not strict, so made-up entries on the left are
# allowed (and skipped) rather than making the whole header unreadable.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 (no proxy) or the number of proxies in front.")
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR",)
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT - 1
    AXES_IPWARE_PROXY_ORDER = "left-most"
    IPWARE_STRICT = False
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)


AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Time -----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
USE_I18N = True
USE_TZ = True
# The organisation's default timezone: reports' weeks and leads with no better clue.
TIME_ZONE = env.str("TIME_ZONE", default="America/New_York")
# Region used to read phone numbers typed without a country code.
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="US")

# --- Static files -----------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
# Files WhiteNoise serves at the site root, before any view: /favicon.ico, which browsers ask for
# whatever the pages' <link rel="icon"> (static/favicon.svg) says.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Cache, Celery ------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = str(VAR_DIR / "celery-queue")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": _queue_dir,
        "data_folder_out": _queue_dir,
        "control_folder": str(VAR_DIR / "celery-control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # Only short tasks ride the broker (no ETAs), so a modest timeout is enough: a message a dead
    # worker had taken comes back after it, and a batch of touches then finds its claim settled.
    # "priority": a worker reads its queues in order, the default queue (a new lead's instant
    # touches, alerts, beat's ticks) before the batches queue (leadfollow/celery.py).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600, "queue_order_strategy": "priority"}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Tests and benchmarks give their workers a queue of their own on a shared Redis.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker takes a task only when a pool process is free to run it (Redis only): no batch of touches
# waits inside a worker, where a SIGKILL would strand it with the ones it is sending.
CELERY_WORKER_DISABLE_PREFETCH = CELERY_BROKER_URL.startswith("redis")
# Batches of touches ride a queue of their own, read after the default one (leadfollow/celery.py).
CELERY_TASK_ROUTES = ("leadfollow.celery.route_task",)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Email ----------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.filebased.EmailBackend"
    if DEBUG
    # Two-phase SMTP: the touch is marked sent before the server may accept (messaging/providers/smtp.py).
    else "messaging.providers.smtp.TwoPhaseSMTPBackend",
)
EMAIL_FILE_PATH = str(VAR_DIR / "sent-emails")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=15)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="LeadFollow <sales@leadfollow.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where leads' replies go (messaging/reply_address.py): "replies+<token>@domain" on every email touch.
REPLY_TO_ADDRESS = env.str("REPLY_TO_ADDRESS", default=f"replies@{DEFAULT_FROM_EMAIL.rsplit('@', 1)[-1].strip('> ')}")
# The mailbox those replies (and bounces) land in, read over IMAP (reactions/mailbox_poll.py): beat polls
# it every REPLY_IMAP_POLL_SECONDS, or `manage.py mailbox_poll --idle` waits on it. No host: no polling.
REPLY_IMAP_HOST = env.str("REPLY_IMAP_HOST", default="")
REPLY_IMAP_PORT = env.int("REPLY_IMAP_PORT", default=993)
REPLY_IMAP_USER = env.str("REPLY_IMAP_USER", default="")
REPLY_IMAP_PASSWORD = env.str("REPLY_IMAP_PASSWORD", default="")
REPLY_IMAP_SECURITY = env.str("REPLY_IMAP_SECURITY", default="ssl")  # "ssl" | "starttls" | "none"
if REPLY_IMAP_SECURITY not in ("ssl", "starttls", "none"):
    raise ImproperlyConfigured(f'REPLY_IMAP_SECURITY must be "ssl", "starttls" or "none", got {REPLY_IMAP_SECURITY!r}.')
REPLY_IMAP_FOLDER = env.str("REPLY_IMAP_FOLDER", default="INBOX")
# Where a processed message goes (made if missing): what is left in REPLY_IMAP_FOLDER is still to do.
REPLY_IMAP_PROCESSED_FOLDER = env.str("REPLY_IMAP_PROCESSED_FOLDER", default="LeadFollow/Processed")
REPLY_IMAP_POLL_SECONDS = env.int("REPLY_IMAP_POLL_SECONDS", default=30)
# CAN-SPAM: every automated email names the sender and a physical postal address.
ORGANIZATION_NAME = env.str("ORGANIZATION_NAME", default="LeadFollow Demo Co.")
ORGANIZATION_POSTAL_ADDRESS = env.str(
    "ORGANIZATION_POSTAL_ADDRESS", default="100 Main Street, Springfield, IL 62701, USA"
)
# The currency the reports show money in (ISO 4217: lead costs, spend, cost per won deal).
ORGANIZATION_CURRENCY = env.str("ORGANIZATION_CURRENCY", default="USD").strip().upper()
if not (len(ORGANIZATION_CURRENCY) == 3 and ORGANIZATION_CURRENCY.isascii() and ORGANIZATION_CURRENCY.isalpha()):
    raise ImproperlyConfigured(
        f"ORGANIZATION_CURRENCY must be a three-letter ISO 4217 code, got {ORGANIZATION_CURRENCY!r}."
    )
# Absolute base URL for links in emails and Twilio callbacks (the public URL behind a proxy).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Twilio -------------------------------------------------------------------------
# With no credentials, SMS go to the database outbox (shown at /outbox/).
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
# Only for tests and benchmarks: where the twilio library sends its HTTP requests.
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")

# --- Email provider webhooks (django-anymail) ---------------------------------------------------
# Mailgun's tracking and inbound webhooks under /webhooks/anymail/mailgun/ (README "Connect an email
# provider"). Each call must be signed with MAILGUN_WEBHOOK_SIGNING_KEY; unset, the key is a random
# value no caller knows, so the webhooks refuse everything (400) instead of taking unsigned bounces and
# opt-outs. ANYMAIL_WEBHOOK_SECRET ("user:password", comma-separated while rotating) adds HTTP basic auth.
ANYMAIL = {
    "MAILGUN_WEBHOOK_SIGNING_KEY": env.str("MAILGUN_WEBHOOK_SIGNING_KEY", default="") or secrets.token_urlsafe(32),
    "WEBHOOK_SECRET": env.list("ANYMAIL_WEBHOOK_SECRET", default=[]),
}

# --- Product rules ----------------------------------------------------------------
# No lead is closed lost/unqualified before this many logged attempts (managers can override).
MIN_ATTEMPTS_BEFORE_CLOSE = env.int("MIN_ATTEMPTS_BEFORE_CLOSE", default=5)
# Reports call an open lead "abandoned" after this many days with no touch and nothing scheduled.
ABANDONED_AFTER_DAYS = env.int("ABANDONED_AFTER_DAYS", default=14)
# A rep's task is overdue once its due time plus this grace has passed; done later than that, the rest of
# its cadence shifts by the delay (cadences.sequence).
TASK_OVERDUE_GRACE_MINUTES = env.int("TASK_OVERDUE_GRACE_MINUTES", default=15)
# A new web lead's call task reads "due now" until this target has passed.
INSTANT_CALL_TARGET_MINUTES = env.int("INSTANT_CALL_TARGET_MINUTES", default=5)
# At most this many automated messages per channel per lead per local day, whatever was due (after downtime,
# a restored backup or a bulk import); the rest wait for the next day.
AUTOMATED_MESSAGES_PER_CHANNEL_PER_DAY = max(1, env.int("AUTOMATED_MESSAGES_PER_CHANNEL_PER_DAY", default=1))
# New-lead alerts to the rep are sent only for leads younger than this (never for a weeks-old backlog).
NEW_LEAD_ALERT_WINDOW_MINUTES = env.int("NEW_LEAD_ALERT_WINDOW_MINUTES", default=60)
# A text from a number no lead has becomes a lead of this source: give the source a team (admin,
# Lead sources) and its reps get those leads in turn; with no team they wait unassigned for an admin
# or manager to assign them (reactions/inbound_sms.py).
SMS_INBOUND_SOURCE_NAME = env.str("SMS_INBOUND_SOURCE_NAME", default="SMS inbound")
# Customers each rep is asked to call for referrals every day (the Today page).
REFERRAL_CALLS_PER_DAY = env.int("REFERRAL_CALLS_PER_DAY", default=3)
# Automated SMS and calls only inside this recipient-local window; it can be narrowed, never widened.
CONTACT_WINDOW_START_HOUR = max(8, env.int("CONTACT_WINDOW_START_HOUR", default=8))
CONTACT_WINDOW_END_HOUR = min(21, env.int("CONTACT_WINDOW_END_HOUR", default=21))
if CONTACT_WINDOW_START_HOUR >= CONTACT_WINDOW_END_HOUR:
    raise ImproperlyConfigured("CONTACT_WINDOW_START_HOUR must be before CONTACT_WINDOW_END_HOUR.")
# Leases on claimed touches (messaging/leases.py). A worker holds the batch it sends for this long and
# renews it every third of it: a dead worker's touches are reconciled within one lease.
DISPATCH_LEASE_SECONDS = env.int("DISPATCH_LEASE_SECONDS", default=15)
# A claimed batch still waiting in the broker is held this long: past it, the broker lost it.
DISPATCH_QUEUE_LEASE_SECONDS = env.int("DISPATCH_QUEUE_LEASE_SECONDS", default=120)
# The longest a worker may spend on one touch (many times the transports' timeouts). It stops renewing
# a batch that made no progress for this long, and a started SMS that Twilio has not seen is sent again
# only this long after its send started, unless its worker is known dead (it restarted).
DISPATCH_SEND_TIMEOUT_SECONDS = env.int("DISPATCH_SEND_TIMEOUT_SECONDS", default=120)
if DISPATCH_LEASE_SECONDS < 3 or not DISPATCH_LEASE_SECONDS <= DISPATCH_SEND_TIMEOUT_SECONDS:
    raise ImproperlyConfigured("DISPATCH_LEASE_SECONDS must be at least 3 and at most DISPATCH_SEND_TIMEOUT_SECONDS.")
DISPATCH_BATCH_SIZE = env.int("DISPATCH_BATCH_SIZE", default=100)
# A worker sends a batch for at most this long, then puts the rest back in the broker (ahead of the
# backlog) and looks at the default queue: how long a new lead's auto-responder may wait for a worker.
DISPATCH_BATCH_SECONDS = env.float("DISPATCH_BATCH_SECONDS", default=1.0)
# At most this many claimed touches wait in the broker; the rest wait in the database. Keep it
# below what the workers send within DISPATCH_QUEUE_LEASE_SECONDS.
DISPATCH_MAX_IN_FLIGHT = env.int("DISPATCH_MAX_IN_FLIGHT", default=2000)

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "intake.api_parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Every API error answers JSON, a server error too (intake/api_errors.py).
    "EXCEPTION_HANDLER": "intake.api_errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}


def _requests_per_second(var: str, default: str) -> float:
    """A rate such as "10/s", "600/min", "20/hour" or "100/d", in requests per second."""
    value = env.str(var, default=default)
    number, _, unit = value.partition("/")
    seconds = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400}
    try:
        rate = float(number) / seconds[unit.strip().lower()]
    except (ValueError, KeyError):
        rate = 0
    if not rate > 0:
        raise ImproperlyConfigured(f"{var} must look like 10/s, 600/min or 20/hour, got {value!r}.")
    return rate


# Token buckets (intake/throttling.py). Per API key: a burst of API_THROTTLE_BURST requests, then
# API_THROTTLE_RATE sustained; no website's form posts faster. Requests with a missing or invalid key,
# per client address: a small burst, then a trickle, so guessing keys is slow.
API_THROTTLE_BURST = env.int("API_THROTTLE_BURST", default=300)
API_THROTTLE_RATE = _requests_per_second("API_THROTTLE_RATE", "10/s")
API_BAD_KEY_THROTTLE_BURST = env.int("API_BAD_KEY_THROTTLE_BURST", default=20)
API_BAD_KEY_THROTTLE_RATE = _requests_per_second("API_BAD_KEY_THROTTLE_RATE", "10/min")
if min(API_THROTTLE_BURST, API_BAD_KEY_THROTTLE_BURST) < 1:
    raise ImproperlyConfigured("API_THROTTLE_BURST and API_BAD_KEY_THROTTLE_BURST must be at least 1.")

SPECTACULAR_SETTINGS = {
    "TITLE": "LeadFollow API",
    "DESCRIPTION": "Web-to-lead intake. Authenticate with `Authorization: Api-Key <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc are served from our own static files (drf-spectacular-sidecar): no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security (production) -------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Container healthchecks call /healthz/ over plain HTTP from inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): every script and stylesheet is a file under static/ (Bootstrap,
# htmx, Chart.js, static/js/); no inline script, inline style or eval anywhere (htmx's own indicator
# style and eval are off: templates/base.html). data: images are Bootstrap's SVG icons in its CSS.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# Bookkeeping tasks beat sends every few seconds (leadfollow/schedules.py): their INFO lines are
# dropped (leadfollow/log_filters.py), their warnings and errors kept. `make run` sets LOG_QUIET_TICKS=1;
# elsewhere beat logs every tick (the fault tests count a beat's dispatches in its log).
QUIET_TICK_TASKS = ["cadences.dispatch_due", "cadences.reconcile_stuck"]
if REPLY_IMAP_HOST and REPLY_IMAP_POLL_SECONDS < 60:
    QUIET_TICK_TASKS.append("intake.mailbox_poll")
LOG_QUIET_TICKS = env.bool("LOG_QUIET_TICKS", default=False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "quiet_ticks": {"()": "leadfollow.log_filters.QuietTicks", "tasks": QUIET_TICK_TASKS if LOG_QUIET_TICKS else []}
    },
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # One line per request: the server's access line (runserver's django.server, which now
        # reaches the root handler like every other logger, or gunicorn's access log). Django's
        # default config also gave "django" a console handler of its own when DEBUG is on, so each
        # of its messages printed twice; and django.request's "Not Found: /x" warning for every
        # 4xx only repeated the access line. Server errors (5xx, with their traceback) still log.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"level": "ERROR"},
        "django.db.backends": {"level": "INFO"},
        "celery.beat": {"filters": ["quiet_ticks"]},
        "celery.worker.strategy": {"filters": ["quiet_ticks"]},
        "celery.app.trace": {"filters": ["quiet_ticks"]},
        # The twilio library logs every request it makes at INFO, with the lead's phone number in the
        # URL and body (sends and the reconciler's lookups): only its warnings and errors are kept.
        "twilio": {"level": "WARNING"},
    },
}

# The embedded defaults keep their state under var/: make sure the folders exist.
for _folder in (VAR_DIR, VAR_DIR / "celery-queue", VAR_DIR / "celery-control", VAR_DIR / "cache"):
    _folder.mkdir(parents=True, exist_ok=True)
