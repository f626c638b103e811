"""Who is calling: bearer tokens verified into a `Caller` (docs/access.md, Identity and Roles).

Development and tests sign HS256 tokens with `SHOUHU_JWT_SECRET`; production verifies
RS256/ES256 against the public keys of a JWKS file. A token that is missing, expired,
malformed or wrongly signed is refused with one message and nothing else.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jwt

from api.settings import Settings
from graph.callers import Caller, Role
from graph.regions import CODE

#: Tokens kept verified (`TokenVerifier`): a client sends its one token with every request, and
#: checking a signature costs more than many a query; a few thousand callers fit in well under a MiB.
VERIFIED_CACHE_SIZE: Final = 4096


class AuthenticationError(Exception):
    """The request carries no usable identity. The message is safe to show."""


@dataclass(frozen=True, slots=True)
class Verified:
    caller: Caller
    #: When the token expires (seconds since the epoch): a subscription ends then.
    expires_at: float


class TokenVerifier:
    """Verifies bearer tokens with the keys the settings name; built once in the lifespan.

    A token verified once is remembered until it expires (the last `cache_size` of them): the
    keys do not change while the process runs, and a token's claims cannot change without its
    text changing, so only the expiry is checked again. A refused token is not remembered.
    """

    def __init__(self, settings: Settings, cache_size: int = VERIFIED_CACHE_SIZE) -> None:
        self._secret = settings.jwt_secret
        self._jwks: jwt.PyJWKSet | None = None
        if settings.jwks_file is not None:
            self._jwks = load_jwks(settings.jwks_file)
        self._cache_size = cache_size
        self._verified: OrderedDict[str, Verified] = OrderedDict()

    def verify(self, authorization: str | None) -> Caller:
        return self.verify_token(authorization).caller

    def verify_token(self, authorization: str | None) -> Verified:
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthenticationError("a bearer token is required")
        token = authorization.removeprefix("Bearer ").strip()
        known = self._verified.get(token)
        if known is not None:
            # PyJWT refuses a token from its whole-second `exp` on (no leeway): so does the cache.
            if time.time() < int(known.expires_at):
                self._verified.move_to_end(token)
                return known
            del self._verified[token]
        verified = self._verify(token)
        self._verified[token] = verified
        if len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)
        return verified

    def _verify(self, token: str) -> Verified:
        try:
            claims = self._decode(token)
        except jwt.ExpiredSignatureError as error:
            raise AuthenticationError("the token has expired") from error
        except (jwt.InvalidTokenError, jwt.PyJWKError, KeyError, ValueError) as error:
            raise AuthenticationError("the token is not valid") from error
        expires_at = claims["exp"]
        if not isinstance(expires_at, int | float) or isinstance(expires_at, bool):
            raise AuthenticationError("the token is not valid")
        return Verified(caller_from_claims(claims), float(expires_at))

    def _decode(self, token: str) -> dict[str, Any]:
        if self._jwks is not None:
            kid = jwt.get_unverified_header(token).get("kid")
            keys = [key for key in self._jwks.keys if kid is None or key.key_id == kid]
            if not keys:
                raise jwt.InvalidTokenError("no key for this token")
            return jwt.decode(
                token, keys[0], algorithms=["RS256", "ES256"], options={"require": ["exp", "sub", "role"]}
            )
        if self._secret is None:
            raise jwt.InvalidTokenError("no verification key configured")
        return jwt.decode(token, self._secret, algorithms=["HS256"], options={"require": ["exp", "sub", "role"]})


def load_jwks(path: Path) -> jwt.PyJWKSet:
    return jwt.PyJWKSet.from_dict(json.loads(path.read_text()))


def caller_from_claims(claims: dict[str, Any]) -> Caller:
    try:
        role = Role(claims["role"])
    except ValueError as error:
        raise AuthenticationError("the token's role is not known") from error
    sub = claims["sub"]
    if not isinstance(sub, str) or not sub:
        raise AuthenticationError("the token has no subject")
    region = claims.get("region")
    institution = claims.get("institution")
    if role is Role.INSTITUTION_STAFF:
        if not isinstance(institution, str) or not institution:
            raise AuthenticationError("an institution_staff token needs an institution claim")
        return Caller(sub, role, None, institution)
    if region is None and role is Role.ADMIN:
        return Caller(sub, role)
    if not isinstance(region, str) or not CODE.fullmatch(region):
        raise AuthenticationError("the token needs a 12-digit region claim")
    return Caller(sub, role, region, None)


def mint_development_token(
    secret: str, *, role: Role, sub: str, region: str | None = None, institution: str | None = None, ttl: int = 3600
) -> str:
    """An HS256 token for development and tests (`shouhu token`)."""
    claims: dict[str, Any] = {"sub": sub, "role": role.value, "exp": int(time.time()) + ttl, "iat": int(time.time())}
    if region is not None:
        claims["region"] = region
    if institution is not None:
        claims["institution"] = institution
    caller_from_claims(claims)
    return jwt.encode(claims, secret, algorithm="HS256")
