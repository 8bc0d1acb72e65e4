"""Optional API keys, and which key owns which job.

With no keys configured every request is let through and jobs have no owner.
With keys, each request except the open paths must carry one, as
``Authorization: Bearer KEY`` or ``X-API-Key: KEY``. Both headers, or a header
repeated, may carry the same key, but a request with two different keys is
rejected. A job belongs to the key that submitted it, and other keys get 404
for it, as if it did not exist.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

from aiohttp import web

from server.errors import ApiError, Handler

logger = logging.getLogger(__name__)

# Paths that never need a key: liveness checks and the API description.
OPEN_PATHS = frozenset({"/v1/health", "/v1/openapi.json"})
# Paths that need a key only when protect_status is set.
STATUS_PATHS = frozenset({"/v1/ready", "/metrics"})
# Fingerprint of the key that made the request, None when keys are off.
OWNER_KEY = web.RequestKey("owner", str | None)
# Invalid keys are logged at most once per this many seconds, with a count, so
# that a client guessing keys cannot flood the log.
REJECT_LOG_INTERVAL_S = 60.0

# Names of common HTTP authentication schemes, safe to repeat in a message,
# unlike an unknown first word of the header, which may be the key itself.
_KNOWN_SCHEMES = frozenset(
    "basic bearer concealed digest dpop gnap hoba mutual negotiate ntlm "
    "privatetoken scram-sha-1 scram-sha-256 vapid".split()
)


def key_bytes(key: str) -> bytes:
    """Return the bytes of a key as configured or as sent in a header.

    aiohttp decodes header values as UTF-8 with ``surrogateescape``, so a byte
    that is not UTF-8 arrives as a lone surrogate, and this returns it as sent.
    """
    return key.encode("utf-8", "surrogateescape")


def fingerprint(key: str) -> str:
    """Return a short, stable id for a key that reveals nothing about it."""
    return hashlib.sha256(key_bytes(key)).hexdigest()[:16]


def load_keys(inline: str, path: str) -> list[str]:
    """Read keys from a comma-separated string and a file of one key per line.

    White space around each key is removed, as it is from a presented key (and
    HTTP drops it around header values), so a key that kept it could never
    match. Lines of the file that are blank, or whose first character after
    that is ``#``, are skipped. A UTF-8 byte-order mark at the start of the file
    is skipped too.

    Raises:
        ValueError: the file cannot be read or is not UTF-8, or a source that
            is set contains no key, which would leave the API open. The message
            names the source and the fix.
    """
    keys = [key.strip() for key in inline.split(",") if key.strip()]
    if inline and not keys:
        raise ValueError(
            "setting api_keys contains no keys, only commas and white space; give "
            "keys separated by commas, or unset BOOKNLP_JOBS_API_KEYS and "
            "--api-keys"
        )
    if path:
        file_keys = _read_key_file(path)
        if not file_keys:
            raise ValueError(
                f"API key file {path!r} contains no keys; add one key per line, "
                "or drop --api-keys-file and BOOKNLP_JOBS_API_KEYS_FILE"
            )
        keys.extend(file_keys)
    return keys


def _read_key_file(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            lines = [line.strip() for line in handle]
    except OSError as exc:
        raise ValueError(
            f"cannot read the API key file {path!r}: {exc.strerror}; check "
            "BOOKNLP_JOBS_API_KEYS_FILE"
        ) from None
    except UnicodeDecodeError as exc:
        # The bytes may be part of a key, so only their offset is named.
        raise ValueError(
            f"API key file {path!r} is not valid UTF-8 at byte offset {exc.start}; "
            "save it as UTF-8 with one key per line"
        ) from None
    return [line for line in lines if line and not line.startswith("#")]


class KeyChecker:
    """Compare presented keys with the configured ones in constant time."""

    def __init__(self, keys: list[str], protect_status: bool) -> None:
        self._keys = [key_bytes(key) for key in keys]
        self.protect_status = protect_status
        self._rejected_since_log = 0
        self._last_reject_log = float("-inf")

    def log_rejection(self, request: web.Request) -> None:
        self._rejected_since_log += 1
        now = time.monotonic()
        if now - self._last_reject_log < REJECT_LOG_INTERVAL_S:
            return
        logger.warning(
            "rejected %d request(s) with an invalid or conflicting API key; latest "
            "from %s for %s %s", self._rejected_since_log, request.remote,
            request.method, request.path,
        )  # fmt: skip
        self._rejected_since_log, self._last_reject_log = 0, now

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def owner_of(self, presented: str) -> str | None:
        """Return the key's fingerprint if it is configured, else None."""
        candidate = key_bytes(presented)
        matched = False
        # Every key is compared, so the time taken does not reveal which matched.
        for key in self._keys:
            matched |= hmac.compare_digest(candidate, key)
        return fingerprint(presented) if matched else None

    def needs_key(self, path: str) -> bool:
        if not self.enabled or path in OPEN_PATHS:
            return False
        return self.protect_status or path not in STATUS_PATHS


def presented_keys(request: web.Request) -> list[tuple[str, str]]:
    """Collect the ``(header name, key)`` pairs of all Bearer and X-API-Key headers.

    Headers with an empty key are left out.
    """
    keys: list[tuple[str, str]] = []
    for header in request.headers.getall("Authorization", []):
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            keys.append(("Authorization", value.strip()))
    for header in request.headers.getall("X-API-Key", []):
        if header.strip():
            keys.append(("X-API-Key", header.strip()))
    return keys


def make_auth_middleware(checker: KeyChecker) -> web.Middleware:
    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        request[OWNER_KEY] = None
        if not checker.needs_key(request.path):
            return await handler(request)
        presented = presented_keys(request)
        keys = list(dict.fromkeys(key for _, key in presented))
        challenge = {"WWW-Authenticate": 'Bearer realm="booknlp-jobs"'}
        if len(keys) > 1:
            # Checking only one of them would let a request through whose
            # other key is wrong, and no rule decides which one the client meant.
            checker.log_rejection(request)
            headers = " and ".join(dict.fromkeys(name for name, _ in presented))
            raise ApiError(
                401, "unauthorized",
                f"the request carries {len(keys)} different API keys in its "
                f"{headers} headers; send only one key, as "
                "'Authorization: Bearer KEY' or 'X-API-Key: KEY'",
                headers=challenge,
            )  # fmt: skip
        if not keys:
            value = request.headers.get("Authorization", "")
            scheme = value.split(None, 1)[0] if value.strip() else ""
            if scheme and scheme.lower() != "bearer":
                # A registered scheme is named; any other first word may be the
                # key itself, sent without "Bearer", and is never repeated.
                named = (
                    f"Authorization scheme {scheme!r} is not supported"
                    if scheme.lower() in _KNOWN_SCHEMES
                    else "the Authorization header does not start with 'Bearer '"
                )
                raise ApiError(
                    401, "unauthorized",
                    f"{named}; send the API key as 'Authorization: Bearer KEY' "
                    "or 'X-API-Key: KEY'",
                    headers=challenge,
                )  # fmt: skip
            raise ApiError(
                401, "unauthorized",
                "missing API key; send it as 'Authorization: Bearer KEY' or "
                "'X-API-Key: KEY'",
                headers=challenge,
            )  # fmt: skip
        owner = checker.owner_of(keys[0])
        if owner is None:
            checker.log_rejection(request)
            raise ApiError(
                401, "unauthorized", "the API key is not valid; check it with the "
                "service's operator", headers=challenge,
            )  # fmt: skip
        request[OWNER_KEY] = owner
        return await handler(request)

    return authenticate
