"""The WSGI app gunicorn serves; gunicorn.conf.py preloads it in the master, so workers fork ready.

Importing this module also does at start what the first requests would otherwise do on first use
(the first leads after a start took 0.66 s, 2.45 s and 2.91 s): the URLconf with every view behind
it (DRF, drf-spectacular), the cache backend, the Celery producer (its task registry, message
protocol and broker transport) and the default region's phone metadata. Only imports and objects in
memory: no database, Redis or broker connection is opened here, as a preloaded master would hand
them to every worker it forks.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadfollow.settings")
application = get_wsgi_application()

# After get_wsgi_application(): these need Django set up.
import phonenumbers  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import caches  # noqa: E402
from django.urls import get_resolver  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402
from kombu import Connection  # noqa: E402

from leadfollow.celery import app as celery_app  # noqa: E402
from leads.services.intake import lead_clean_input  # noqa: E402


def warm_up() -> None:
    # Several lines read a lazy attribute only to have it loaded.
    get_resolver().url_patterns  # noqa: B018 - imports leadfollow.urls and every URLconf it includes
    get_resolver().reverse_dict  # noqa: B018 - the reverse lookup table, built once
    getattr(caches["default"], "_cache", None)  # RedisCache's client class (imports redis); no pool yet
    import_string(settings.MESSAGE_STORAGE)
    import_string(settings.SESSION_SERIALIZER)
    celery_app.finalize(auto=True)  # every task module, Task classes
    celery_app.amqp.router  # noqa: B018 - message protocol and routing
    celery_app.events.Dispatcher  # noqa: B018 - the task-sent event machinery a publish imports
    Connection(celery_app.conf.broker_url).get_transport_cls()  # the transport module, unconnected
    # The intake rules once: phone metadata of the default region, and the email and URL
    # validators' regular expressions, which Django compiles on first use (~50 ms).
    lead_clean_input(
        first_name="Warm",
        phone=phonenumbers.format_number(
            phonenumbers.example_number(settings.PHONE_DEFAULT_REGION), phonenumbers.PhoneNumberFormat.E164
        ),
        email="warm.up@example.org",
        linkedin_url="https://www.linkedin.com/in/warm-up",
    )


warm_up()
