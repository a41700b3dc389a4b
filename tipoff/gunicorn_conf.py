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
access_log_format = '"%(m)s %(U)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
forwarded_allow_ips = os.environ.get("TIPOFF_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Files the workers create (SQLite journals, attachments) are for the service user alone.
umask = 0o077
