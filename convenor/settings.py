"""Convenor settings: one file, driven by environment variables.

Nothing needs to be configured for the demo: the data lives in ``./data`` (or
``CONVENOR_DATA_DIR``) in a SQLite file. ``DATABASE_URL`` switches to PostgreSQL.
Every variable is documented in docs/settings.md; a test keeps the two in step.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

# Makes generic classes such as ModelAdmin[Member] subscriptable at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent


def envbool(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


DATA_DIR = Path(os.environ.get("CONVENOR_DATA_DIR") or "data").resolve()

DEFAULT_SECRET_KEY = "convenor-insecure-default-key-do-not-use-in-production"  # noqa: S105  # refused below unless DEBUG
DEBUG = envbool("CONVENOR_DEBUG", "1")
SECRET_KEY = os.environ.get("CONVENOR_SECRET_KEY") or DEFAULT_SECRET_KEY
if not DEBUG and SECRET_KEY == DEFAULT_SECRET_KEY:
    # A known key lets anyone forge sessions and password-reset links.
    raise ImproperlyConfigured("CONVENOR_SECRET_KEY must be set to a long random value when CONVENOR_DEBUG is off")

ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("CONVENOR_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CONVENOR_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]
SITE_NAME = os.environ.get("CONVENOR_SITE_NAME", "Convenor")
# The organisation the community is run by ("our company"); the demo creates it.
COMPANY_NAME = os.environ.get("CONVENOR_COMPANY_NAME", "Northwind Systems")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "convenor.core",
    "convenor.people",
    "convenor.activity",
    "convenor.spaces",
    "convenor.events",
    "convenor.charter",
    "convenor.feedback",
    "convenor.listening",
    "convenor.graph",
    "convenor.hotgroups",
    "convenor.web",
    "convenor.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Django's, with its cookie made once per secret and second (convenor/web/csrf.py).
    "convenor.web.csrf.CsrfViewMiddleware",
    # Django's, with the user read in one plain query (convenor/web/auth.py).
    "convenor.web.auth.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Maps ApplicationError from the web pages to 404/403 pages and the login redirect.
    "convenor.web.errors.ApplicationErrorMiddleware",
]

ROOT_URLCONF = "convenor.urls"
WSGI_APPLICATION = "convenor.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "convenor.web.context.site",
            ],
        },
    },
]


def _databases() -> dict[str, dict[str, object]]:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        db: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
        # One test database per test process, as on SQLite below: two suites run at once
        # (a developer's and a helper's, on one server) would otherwise drop each other's.
        db["TEST"] = {"NAME": f"test_{db['NAME']}_{os.getpid()}"}
        return {"default": db}
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "convenor.sqlite3",
            "OPTIONS": {
                # WAL lets readers (the web process) go on while a writer (an import,
                # the worker) holds the lock; IMMEDIATE takes the write lock at BEGIN so
                # two writers queue instead of failing with "database is locked" mid-way.
                # mmap_size: pages are read from the operating system's cache in place
                # rather than copied into each connection's own 2 MB page cache (default)
                # with a system call each. A search walks long index entries: on a million
                # posts its SQL took 15 to 30 % less (docs/operations.md, Performance).
                # SQLite caps the size at its build's limit (2 GB here); a larger database
                # is read the usual way past it.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA mmap_size=4294967296;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # Keep each server thread's connection open between requests: opening one (and its
            # PRAGMAs) costs more than a cached page (bench/web.py).
            "CONN_MAX_AGE": 600,
            # Tests use a file, not Django's shared-cache in-memory database: threads with
            # their own connections (the registration concurrency test) fail on a shared
            # cache with "table is locked" instead of waiting for the lock. One file per
            # test process, so parallel runs never share or delete each other's database.
            "TEST": {"NAME": str(Path(tempfile.gettempdir()) / f"convenor-test-{os.getpid()}.sqlite3")},
        }
    }


DATABASES = _databases()


def _caches() -> dict[str, dict[str, object]]:
    """The page cache (convenor/web/pagecache.py): in-process memory by default, Redis when
    CONVENOR_CACHE_URL names one (``redis://host:6379/0``; needs the ``redis`` package).
    Entries are keyed by what they show, so a per-process cache is correct, only less shared."""
    url = os.environ.get("CONVENOR_CACHE_URL", "").strip()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    if url and url != "locmem://":
        raise ImproperlyConfigured("CONVENOR_CACHE_URL must be locmem:// or a redis:// URL")
    return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 500}}}


CACHES = _caches()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("CONVENOR_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "uploads"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# The promotional-content detector's model; `convenor charter train` builds it.
CHARTER_MODEL_PATH = Path(os.environ.get("CONVENOR_CHARTER_MODEL") or DATA_DIR / "charter-model.joblib").resolve()

# Hot groups: people proposed for an interest are not proposed for it again for this many days.
HOTGROUPS_COOLDOWN_DAYS = envint("CONVENOR_HOTGROUPS_COOLDOWN_DAYS", 90)

# The map's weight per verb ("replied=3,reacted=0.5"; 0 leaves a verb out), over the
# defaults in convenor/graph/build.py. See docs/map.md.
MAP_WEIGHTS = os.environ.get("CONVENOR_MAP_WEIGHTS", "")
# The map page draws at most this many nodes (the most connected) and lines (the heaviest
# among them); it stays responsive at these sizes. See docs/map.md.
MAP_PAGE_NODES = envint("CONVENOR_MAP_PAGE_NODES", 50_000)
MAP_PAGE_LINES = envint("CONVENOR_MAP_PAGE_LINES", 200_000)
if MAP_PAGE_NODES < 1 or MAP_PAGE_LINES < 1:
    raise ImproperlyConfigured("CONVENOR_MAP_PAGE_NODES and CONVENOR_MAP_PAGE_LINES must be at least 1")

# Uploads (CSV imports through the web) larger than this are refused.
MAX_UPLOAD_BYTES = envint("CONVENOR_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES

# Listening (outside conduits): fetching URLs and the limits that keep hostile files out.
LISTENING_FETCH_TIMEOUT = envint("CONVENOR_LISTENING_FETCH_TIMEOUT", 20)
LISTENING_MAX_FETCH_BYTES = envint("CONVENOR_LISTENING_MAX_FETCH_BYTES", 20 * 1024 * 1024)
LISTENING_MAX_DOCUMENT_BYTES = envint("CONVENOR_LISTENING_MAX_DOCUMENT_BYTES", 50 * 1024 * 1024)
LISTENING_MAX_FILE_BYTES = envint("CONVENOR_LISTENING_MAX_FILE_BYTES", 4 * 1024 * 1024 * 1024)
LISTENING_MAX_ARCHIVE_BYTES = envint("CONVENOR_LISTENING_MAX_ARCHIVE_BYTES", 16 * 1024 * 1024 * 1024)
LISTENING_MAX_COMPRESSION_RATIO = envint("CONVENOR_LISTENING_MAX_COMPRESSION_RATIO", 100)
LISTENING_BACKGROUND_IMPORTS = envbool("CONVENOR_LISTENING_BACKGROUND_IMPORTS", "1")

EMAIL_BACKEND = os.environ.get("CONVENOR_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("CONVENOR_FROM_EMAIL", "community@localhost")
EMAIL_HOST = os.environ.get("CONVENOR_SMTP_HOST", "localhost")
EMAIL_PORT = envint("CONVENOR_SMTP_PORT", 25)
EMAIL_HOST_USER = os.environ.get("CONVENOR_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("CONVENOR_SMTP_PASSWORD", "")
EMAIL_USE_TLS = envbool("CONVENOR_SMTP_TLS", "0")
# The address people reach the site at, for links in emails and feeds.
CONVENOR_BASE_URL = os.environ.get("CONVENOR_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Django's database sessions, read with one plain query (convenor/web/sessions.py says why
# not a cached engine).
SESSION_ENGINE = "convenor.web.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CONVENOR_LOG_LEVEL", "WARNING")},
    # waitress warns "Task queue depth is N" for every request that waits for a free thread:
    # under steady load that is most of them (5,258 lines in one benchmark run), about 10 µs
    # of the server's one busy core each. Watch latency at the load balancer instead.
    "loggers": {"waitress.queue": {"level": os.environ.get("CONVENOR_WAITRESS_QUEUE_LOG_LEVEL", "ERROR")}},
}
