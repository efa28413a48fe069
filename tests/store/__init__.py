"""Tests of hub.store: engines, tables, migrations, ``homeroom db``."""
