"""Thingscope test suite."""
