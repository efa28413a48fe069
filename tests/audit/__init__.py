"""Tests of hub.audit: the hash-chained disclosure log and ``homeroom audit``."""
