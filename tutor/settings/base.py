"""Settings for every environment, read from the process environment with django-environ.

With no variables set, Tutor runs embedded: SQLite, Channels' in-memory layer,
local-memory cache and eager Celery. ``DATABASE_URL`` switches to PostgreSQL and
``REDIS_URL`` (or ``CELERY_BROKER_URL``) to Redis for the channel layer, the cache
and Celery.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# Only for the embedded development mode; production must set DJANGO_SECRET_KEY.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-dev-key-set-DJANGO_SECRET_KEY-in-production")
if not DEBUG and SECRET_KEY.startswith("insecure-"):
    raise RuntimeError("Set DJANGO_SECRET_KEY when DJANGO_DEBUG is off.")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=["http://127.0.0.1:8000", "http://localhost:8000"])

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
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_results",
    "domain",
    "student_model",
    "pedagogy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tutor.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "tutor.asgi.application"

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
                "tutor.context_processors.roles",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Let the ASGI server, a Celery thread and management commands share the file. A transaction begins
    # as a writer (BEGIN IMMEDIATE) and so waits up to `timeout` for the lock: a deferred one that reads
    # and then writes fails at once with "database is locked", as SQLite does not wait on lock upgrades.
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CHANNEL_LAYERS = {
        # redis-py's default 5 s socket timeout equals channels-redis' 5 s blocking pop: an idle socket's
        # receive would time out and drop the websocket, so the read timeout is set above it. All the
        # sockets of one server process share one inbound queue: its capacity (default 100, beyond which
        # messages are dropped) is sized for several hundred chats.
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}], "capacity": 5000},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: eager (in-process) unless a broker is configured.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="django-db")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "student_model.tasks.grade_submission": {"queue": "grading"},
    "*.retrain_*": {"queue": "training"},
    "student_model.tasks.compute_release_preview": {"queue": "training"},
}
# A task taken by a worker that dies is redelivered after this many seconds (Redis broker);
# it must exceed the longest task (training runs on the `training` queue).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TIMEZONE = "UTC"
# Grader retraining and bulk regrades (student_model/retraining.py, regrading.py): with no worker (eager
# Celery) a run goes to a background thread of the web process, so the Retrain and Regrade buttons return
# at once and the page shows progress.
GRADER_RETRAINING_THREAD = env.bool("GRADER_RETRAINING_THREAD", default=CELERY_TASK_ALWAYS_EAGER)
# The release-policy page's preview grades a sample of ~300 answers once per grader version
# (student_model/release_preview.py): with no worker, a background thread of the web process does it,
# so the page returns at once and says to reload, instead of grading inline for minutes.
RELEASE_PREVIEW_THREAD = env.bool("RELEASE_PREVIEW_THREAD", default=CELERY_TASK_ALWAYS_EAGER)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "my-courses"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous request then gets 401 with ``WWW-Authenticate: Token``.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tutor API",
    "DESCRIPTION": "Courses, questions, submissions and grades of the Tutor intelligent tutoring system.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Several models have a "status"; the submission's keeps its own name in the schema.
    "ENUM_NAME_OVERRIDES": {"SubmissionStatusEnum": "student_model.models.Submission.Status"},
    # The docs' JavaScript and CSS come from this server's static files, not from a CDN: a self-hosted
    # machine may have no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Where trained model versions live (see tutor/ml/registry.py).
MODEL_DIR = Path(env.str("TUTOR_MODEL_DIR", default=str(BASE_DIR / "var" / "models")))
DEMO_DATA_DIR = BASE_DIR / "data"
# ONNX Runtime serves the same weights with the same outputs (within 1e-5), one answer in 15 ms at p50
# instead of 26 ms with PyTorch (benchmarks/grading_speed.py); the export is cached beside the version.
GRADER_BACKEND = env.str("GRADER_BACKEND", default="onnx")
# Serve the grader int8 (dynamic quantisation, per-channel weight scales). On ONNX Runtime, with the
# residual projections kept fp32 (onnx_backend.quantize), grader-minilm-v2 stays within half a point of
# fp32's macro-F1 on every visible split (SciEntsBank -0.47, Beetle -0.22, SAF English +0.69, German 0;
# benchmarks/results/grading_quality.json) at about 1.5 times the answers per second, so it is the
# default there. Since session 21 every weight is int8 within 7 bits, which AVX2-only CPUs multiply
# without saturating (grader-minilm-v3: within half a point of fp32 on each split, about 1.3 times the
# residual-in-fp32 variant's speed; tutor/ml/grading/README.md). PyTorch's int8 costs 2.2 points of
# SciEntsBank, so that backend serves fp32 unless asked.
GRADER_INT8 = env.bool("GRADER_INT8", default=GRADER_BACKEND == "onnx")
# Threads each process gives the grader and the embedder. 0: every core, but in a Celery prefork worker,
# whose processes share the cores between them (tutor/ml/threads.py).
GRADER_THREADS = env.int("GRADER_THREADS", default=0)

# Trained versions committed with the product, installed into MODEL_DIR by `manage.py prepare_models`.
SHIPPED_MODEL_DIR = BASE_DIR / "data" / "models"

# Submissions: answers longer than this are refused with a clear message.
MAX_ANSWER_CHARS = 5000

# Django's own loggers write to the one console handler and stop there (with Django's defaults, which give
# "django" a console handler of its own while DEBUG is on, each of its lines was printed twice).
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusals_without_traceback": {"()": "tutor.log_filters.RefusalsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["refusals_without_traceback"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False}},
}
