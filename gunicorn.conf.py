"""gunicorn's settings wherever it runs (the Docker image, docker compose, the tests and the bench):
gunicorn reads ./gunicorn.conf.py from its working directory; the command line adds the rest.

preload_app: the master imports the app (and leadfollow/wsgi.py's warm-up) once before it forks
the workers, so each worker serves its first lead as fast as its hundredth, a worker restarted
after a crash is ready at once, and the healthcheck answers only once the app is loaded.

The Server header: gunicorn 27 sends `Server: gunicorn`, without its version, and has no setting
to change it; the version stays in the WSGI environ's SERVER_SOFTWARE, which nothing sends out.
tests/test_gunicorn.py checks both.
"""

preload_app = True

# The access log keeps the path but not the query string or the referrer (which carries the previous
# page's query): a lead search (?q=a name, a phone, an email) would put personal data in the log.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'
