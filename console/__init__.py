"""Thingscope: the async core (no Qt)."""
