"""Configuration defaults. Then `instance/config.py`, then `ITSM_*` environment variables.

`ITSM_DATABASE_URL` picks the database (default: SQLite at `instance/itsm.sqlite`).
Every key below can be set as `ITSM_<KEY>` (values are parsed as JSON when they can be).
"""


class Defaults:
    # "development" (the README's one-command run) or "production" (a SECRET_KEY is then required)
    ENV = "development"
    SECRET_KEY = None                 # generated into instance/secret_key when unset, outside production
    DATABASE_URL = None               # e.g. postgresql://user@127.0.0.1:5432/itsm
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    DATABASE_PING_AFTER_IDLE = 10.0   # PostgreSQL: ping a pooled connection idle this many seconds before use
    TIMEZONE = "Asia/Shanghai"        # how times are shown and the day a ticket number counts in
    LANGUAGE = "zh"                   # default UI language (zh or en)
    ADMIN_PASSWORD = None             # `itsm init`: the admin's password (else generated, printed once)
    DEMO_PASSWORD = None              # `itsm init --demo`: the demo users' password (else generated, printed once)
    API_APP_SECRET = None             # `itsm api-app create`: the secret to set (else generated, printed once)
    FLOWS_DIR = None                  # default: <project>/flows_yaml
    DICTIONARIES_DIR = None           # default: <project>/dictionaries
    ALERTS_DIR = None                 # alert rule files; default: <project>/alerts_yaml
    ALERTS_PROCESS_INLINE = True      # process a received alert payload right after storing it (else: scheduler only)
    ALERTS_MAX_BODY_BYTES = 1024 * 1024   # the largest alert payload a receiver accepts
    ALERTS_LEASE_SECONDS = 120        # a claimed payload whose processor died is taken over after this
    ALERTS_MAX_ATTEMPTS = 5           # processing attempts of a payload before it is FAILED (kept for the admin)
    SLA_DIR = None                    # default: <project>/sla_yaml (calendars.yaml, agreements.yaml)
    SLA_SOON_SECONDS = 3600           # the workbench lists tickets whose clock reaches its target within this
    UPLOAD_DIR = None                 # default: instance/uploads
    UPLOAD_MAX_BYTES = 10 * 1024 * 1024
    ABANDONED_UPLOAD_HOURS = 72       # an upload kept across a failed submit that no ticket took is removed after this
    UPLOAD_EXTENSIONS = [
        "txt", "log", "csv", "pdf", "png", "jpg", "jpeg", "gif", "doc", "docx", "xls", "xlsx",
        "ppt", "pptx", "zip", "gz", "tar", "7z", "json", "yaml", "yml", "xml", "md",
    ]
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    FIELD_MAX_BYTES = 64 * 1024        # the most a TEXT/RICHTEXT value may hold (UTF-8 bytes), web and API
    API_MAX_BODY_BYTES = 2 * 1024 * 1024   # the largest API request body (a flow document is at most 1 MiB)
    PAGE_SIZE = 20
    BK_TOKEN_MAX_AGE = 7 * 24 * 3600   # seconds a bk_token issued at login stays valid for the API
    # the public address (https://itsm.example.com) ticket_url links in API answers, callbacks and notices
    # start with; unset: the request's own host, or http://127.0.0.1:5000 outside a request (warned in production)
    BASE_URL = None
    CALLBACK_TIMEOUT = 10              # seconds (total deadline) per result-callback POST
    OUTBOUND_MAX_BYTES = 1024 * 1024   # the most of a response body any outbound call reads
    CMDB_SOURCE = "cmdb_roles.yaml"   # CMDB business roles: a YAML file in instance/ or an http(s) URL
    CMDB_SYNC_SECONDS = 3600           # how often the scheduler refreshes CMDB roles
    AUTOMATION_TIMEOUT = 10            # seconds per API call of an api node (a node's params.timeout overrides)
    AUTOMATION_LEASE_SECONDS = 600     # a claimed run whose worker died is taken over after this
    AUTOMATION_PLUGINS: dict = {}      # extra automation plugins: {"name": "package.module:function"}
    API_CHOICES_TTL = 60               # seconds options fetched from an API are reused
    API_CHOICES_TIMEOUT = 5            # seconds (total) to wait for an API that lists a field's options
    API_CHOICES_RETRY_SECONDS = 15     # after a failed fetch, the options are not asked for again sooner
    CALLBACK_MAX_ATTEMPTS = 8          # then the callback is FAILED and listed by callback_failed_ticket
    NOTIFY_MAX_ATTEMPTS = 5            # sends of a notice before it is FAILED (retries back off 30 s, 60 s, ...)
    NOTIFY_LEASE_SECONDS = 300         # a claimed notice not settled by then is taken over by another scheduler
    PASSWORD_HASH_METHOD = "scrypt"
    LOGIN_MAX_FAILURES = 5             # wrong passwords per account within the window, then refused until it passes
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20  # failed logins per client address within the window (any usernames)
    LOGIN_FAILURE_WINDOW = 15 * 60     # seconds
    PROXY_COUNT = 0                    # reverse proxies in front that set X-Forwarded-For/-Proto (nginx → gunicorn: 1)
    GUARD_COMMITS = False              # tests: a commit not issued by an entry point's unit of work raises
    # cookies (session, remember-me, bk_token): HttpOnly and SameSite=Lax always; Secure when COOKIE_SECURE,
    # which defaults to on in production (ENV="production") and off otherwise (plain-HTTP development)
    COOKIE_SECURE = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    FLASK_ADMIN_SWATCH = "cerulean"
