"""Async PocketBase SDK."""
