"""Tests of issue #9: no answer may depend on what the caller cannot see; malformed input is refused."""
