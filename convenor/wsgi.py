"""WSGI entry point, used by `convenor serve` and by any WSGI server at scale."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "convenor.settings")
application = get_wsgi_application()
