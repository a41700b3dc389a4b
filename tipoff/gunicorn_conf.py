"""gunicorn settings for `make run` and production: no client address in any log line."""
import multiprocessing
import os

workers = int(os.environ.get("TIPOFF_WORKERS", max(2, multiprocessing.cpu_count())))
# Threaded workers: while one thread streams a long 台账 export (a 500,000-row XLSX takes minutes to build),
# the worker's main thread keeps answering the arbiter's heartbeat, so the export is not killed at `timeout`.
worker_class = "gthread"
threads = int(os.environ.get("TIPOFF_THREADS", "4"))
timeout = 60
accesslog = "-"
# Default gunicorn access logs begin with %(h)s, the client address; ours leaves it out on purpose.
# The path without its query string: a poster's QR link carries the enterprise's name in the query, and
# "someone at unit X opened the report form at T" must not be in a log either.
# The request id (random, tipoff.logs) ties the access line to the application's lines of that request.
access_log_format = '"%(m)s %(U)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
errorlog = "-"
forwarded_allow_ips = os.environ.get("TIPOFF_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Files the workers create (SQLite journals, attachments) are for the service user alone.
umask = 0o077

if os.environ.get("TIPOFF_LOG_FORMAT", "").strip().lower() == "json":
    # gunicorn's own lines as one JSON object per line too; the application logs through the root handler.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "tipoff.logs.JsonFormatter"}},
        "handlers": {
            "error": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
            "access": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
        },
        "root": {"level": "INFO", "handlers": ["error"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
        },
    }
