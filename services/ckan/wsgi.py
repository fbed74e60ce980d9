"""The WSGI application of Sen's test CKAN (services/ckan/up runs it with gunicorn from
CKAN's own virtual environment): CKAN's app built from the ini file named by CKAN_INI."""

import os

from ckan.cli import CKANConfigLoader
from ckan.config.middleware import make_app

# The loader also applies the ini file's logging sections (CKAN logs to stderr).
application = make_app(CKANConfigLoader(os.environ["CKAN_INI"]).get_config())
