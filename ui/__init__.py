"""Thingscope: the Qt application."""
