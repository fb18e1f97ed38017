"""`python -m leadfollow.own_session <command …>`: run a command in a session of its own and pass it
one SIGTERM when this wrapper is told to stop. The Procfile runs the Celery worker through it.

Why: honcho (`make run`) stops a Procfile process by sending SIGTERM to its whole process group. A
Celery worker's pool processes are in that group, so they died at once ("Process
'ForkPoolWorker-1' exited with 'signal 15 (SIGTERM)'") while the main process was starting its
warm shutdown, and honcho SIGKILLed what was left 5 seconds later. In a session of its own the
worker gets the signal on its main process only: a warm shutdown, the running tasks finish, the
main process stops its pool itself and exits 0. A task still running after honcho's 5 seconds
is left to finish (the wrapper is what honcho SIGKILLs then). Plain Python, so it works wherever
`make run` does (there is no setsid(1) on macOS).
"""

import signal
import subprocess
import sys


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m leadfollow.own_session <command> [arguments…]", file=sys.stderr)
        return 2
    child = subprocess.Popen(argv, start_new_session=True)  # noqa: S603 (the Procfile's own command line)

    def forward(signum, frame):
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return child.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
