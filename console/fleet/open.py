"""`open_fleet(profile, secret)`: the one place a saved profile becomes a `Fleet` (not yet connected).

    fleet = open_fleet(profile, secret)    # raises ProfileError for an unusable profile, InvalidUrlError for a bad URL
    await fleet.connect()                  # signs in; AuthenticationError etc. carry the server's message

The secret is the password, or the API key (ThingsBoard) / auth token (PocketBase) when `profile.auth` is API_KEY.
"""

from __future__ import annotations

import ssl

from console.fleet.base import Fleet
from console.profiles import AuthKind, BackendKind, Profile, ProfileError

__all__ = ["open_fleet"]


def _pocketbase_verify(profile: Profile) -> ssl.SSLContext | bool:
    if not profile.verify_tls:
        return False
    if profile.ca_bundle:
        return ssl.create_default_context(cafile=profile.ca_bundle)
    return True


def open_fleet(profile: Profile, secret: str) -> Fleet:
    """Build the fleet for `profile`; call `await fleet.connect()` next (and `await fleet.close()` at the end)."""
    profile.validate()
    if not secret:
        raise ProfileError("Enter the password or API key to connect.")
    if profile.kind is BackendKind.POCKETBASE:
        from console.fleet.pocketbase import SUPERUSERS, PocketBaseFleet

        try:
            verify = _pocketbase_verify(profile)
        except (OSError, ssl.SSLError) as exc:
            raise ProfileError(f"The CA bundle {profile.ca_bundle!r} could not be read: {exc}.") from exc
        api_key = profile.auth is AuthKind.API_KEY
        return PocketBaseFleet(
            profile.url,
            identity=profile.user,
            password="" if api_key else secret,
            token=secret if api_key else None,
            auth_collection=profile.auth_collection or SUPERUSERS,
            verify=verify,
            proxy=profile.proxy or None,
        )
    from console.fleet.thingsboard import ThingsboardFleet

    api_key = profile.auth is AuthKind.API_KEY
    return ThingsboardFleet(
        profile.url,
        username=profile.user,
        password="" if api_key else secret,
        api_key=secret if api_key else None,
        verify=profile.verify_tls,
        ca_bundle=profile.ca_bundle or None,
        proxy=profile.proxy or None,
    )
