"""`open_fleet(profile, secret)`: the one place a saved profile becomes a `Fleet` (not yet connected).

    fleet = open_fleet(profile, secret)    # raises ProfileError for an unusable profile, InvalidUrlError for a bad URL
    await fleet.connect()                  # signs in; AuthenticationError etc. carry the server's message

The secret is the password, or the API key (ThingsBoard) / auth token (PocketBase) when `profile.auth` is API_KEY.
"""

from __future__ import annotations

import ssl

from console.fleet.base import Fleet
from console.profiles import AuthKind, BackendKind, Profile, ProfileError, with_proxy_secret

__all__ = ["open_fleet"]


def _pocketbase_verify(profile: Profile) -> ssl.SSLContext | bool:
    if not profile.verify_tls:
        return False
    if profile.ca_bundle:
        return ssl.create_default_context(cafile=profile.ca_bundle)
    return True


def open_fleet(profile: Profile, secret: str, *, proxy_password: str | None = None) -> Fleet:
    """Build the fleet for `profile`; call `await fleet.connect()` next (and `await fleet.close()` at the end).

    `proxy_password` is the proxy's password from the keyring (`SecretKind.PROXY`), when the proxy needs one.
    """
    profile.validate()
    proxy = with_proxy_secret(profile.proxy, proxy_password) or None
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
            proxy=proxy,
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
        proxy=proxy,
    )
