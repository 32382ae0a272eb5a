"""Async ThingsBoard SDK."""
