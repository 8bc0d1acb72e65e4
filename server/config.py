"""Service settings: defaults, environment variables and command-line flags."""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
from typing import Any, Sequence

from runner.protocol import ENGINES

ENV_PREFIX = "BOOKNLP_JOBS_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MEMORY_STATE = ":memory:"
# Settings that name a file or folder. A leading ~ in them is expanded to the
# home folder, because systemd environment files, quoted shell words and
# --flag=~/x pass it on unexpanded.
PATH_SETTINGS = ("state_dir", "api_keys_file")


def default_state_dir() -> str:
    """Return ``$XDG_STATE_HOME/booknlp-jobs``, by default under ``~/.local/state``."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return os.path.join(base, "booknlp-jobs")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything the front needs to run; each field has an environment variable.

    The variable is ``BOOKNLP_JOBS_`` plus the field name in upper case, for
    example ``BOOKNLP_JOBS_MAX_QUEUE=10``. Command-line flags win over the
    environment, which wins over these defaults.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    engine: str = "spacy"
    # Folder for the job database, submitted texts and results. MEMORY_STATE
    # keeps jobs in memory only, with the files in a temporary folder.
    state_dir: str = dataclasses.field(default_factory=lambda: default_state_dir())
    max_queue: int = 10
    max_tokens: int = 1_000_000
    # A million tokens of English is about 6 MB of UTF-8; JSON escaping and
    # non-Latin scripts can double or triple that, so the body limit leaves room.
    max_body_bytes: int = 64 * 1024 * 1024
    result_ttl_s: float = 3600.0
    # A request body must arrive within this time, and at most this many bodies
    # are read at once, because the front buffers each body in memory.
    upload_timeout_s: float = 120.0
    max_concurrent_uploads: int = 4
    sync_timeout_s: float = 60.0
    sync_max_tokens: int = 20_000
    # How long a running job may take to stop after a cancel before the child is
    # killed and restarted.
    cancel_grace_s: float = 10.0
    # Maximum time a new child may take to load its model before it is restarted.
    child_start_timeout_s: float = 600.0
    # The runner child is killed when its resident memory passes this, and its
    # job fails; 0 means 80 % of the machine's physical memory.
    max_child_memory_mb: int = 0
    # A job running longer than this is stopped by killing the child.
    max_job_s: float = 4 * 3600.0
    # How often the front samples the child's memory.
    memory_poll_s: float = 0.5
    # On SIGTERM or SIGINT, how long the running job may go on before the child
    # is stopped; the job then runs again after the restart.
    shutdown_grace_s: float = 30.0
    log_level: str = "INFO"
    # API keys, comma-separated, and a file of one key per line; with neither,
    # the API is open. Never logged.
    api_keys: str = dataclasses.field(default="", repr=False)
    api_keys_file: str = ""
    # With keys set, whether /v1/ready and /metrics need a key too.
    protect_status: bool = True

    def validate(self) -> None:
        """Raise ValueError naming the first setting that is out of range."""
        if self.engine not in ENGINES:
            raise ValueError(
                f"engine {self.engine!r} is unknown; set BOOKNLP_JOBS_ENGINE to one "
                f"of {sorted(ENGINES)}"
            )
        positive = (
            "port", "max_queue", "max_tokens", "max_body_bytes", "result_ttl_s",
            "sync_timeout_s", "sync_max_tokens", "cancel_grace_s",
            "child_start_timeout_s", "shutdown_grace_s", "max_job_s",
            "memory_poll_s", "upload_timeout_s", "max_concurrent_uploads",
        )  # fmt: skip
        fields = {field.name: field for field in dataclasses.fields(self)}
        for name in positive:
            value = getattr(self, name)
            # NaN compares false with everything, so it would pass "<= 0".
            if not math.isfinite(value) or value <= 0:
                kind = "positive whole number"
                if fields[name].type == "float":
                    kind = "finite positive number"
                raise ValueError(
                    f"setting {name} must be a {kind}, got {value!r}; set "
                    f"{ENV_PREFIX}{name.upper()} or --{name.replace('_', '-')} to "
                    f"one, such as the default {_default_text(fields[name])}"
                )
        if self.port > 65535:
            raise ValueError(
                f"setting port must be at most 65535, got {self.port}; check "
                f"{ENV_PREFIX}PORT and --port"
            )
        if self.log_level.upper() not in LOG_LEVELS:
            raise ValueError(
                f"setting log_level {self.log_level!r} is unknown; use one of "
                f"{list(LOG_LEVELS)}"
            )
        if self.max_child_memory_mb < 0:
            raise ValueError(
                f"setting max_child_memory_mb must be 0 (automatic) or positive, got "
                f"{self.max_child_memory_mb!r}; check {ENV_PREFIX}MAX_CHILD_MEMORY_MB"
            )

    def child_settings(self) -> dict[str, Any]:
        """Return the plain dict the runner child receives at start."""
        return {"engine": self.engine, "log_level": self.log_level}


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _convert(field: dataclasses.Field[Any], raw: str) -> Any:
    kind = field.type if isinstance(field.type, str) else field.type.__name__
    if kind == "bool":
        if raw.strip().lower() in _TRUE + _FALSE:
            return raw.strip().lower() in _TRUE
        raise ValueError(raw)
    if kind.startswith("int"):
        return int(raw)
    if kind.startswith("float"):
        return float(raw)
    return raw


def _default_text(field: dataclasses.Field[Any]) -> str:
    if field.default is dataclasses.MISSING:
        return repr(field.default_factory())  # type: ignore[misc]
    return repr(field.default)


def load_settings(
    argv: Sequence[str] | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Build settings from defaults, then the environment, then ``argv`` flags.

    Raises:
        ValueError: a value does not parse or is out of range; the message
            names the variable or flag.
    """
    environ = dict(os.environ) if environ is None else environ
    parser = argparse.ArgumentParser(
        prog="python -m server",
        description="Serve BookNLP-style analysis of whole books as HTTP jobs.",
    )
    for field in dataclasses.fields(Settings):
        parser.add_argument(
            "--" + field.name.replace("_", "-"),
            dest=field.name,
            default=None,
            help=f"default {_default_text(field)}; env {ENV_PREFIX}{field.name.upper()}",
        )
    flags = vars(parser.parse_args(argv))

    values: dict[str, Any] = {}
    for field in dataclasses.fields(Settings):
        env_name = ENV_PREFIX + field.name.upper()
        raw = flags[field.name]
        source = "--" + field.name.replace("_", "-")
        if raw is None and environ.get(env_name, "") != "":
            raw, source = environ[env_name], env_name
        if raw is None:
            continue
        if field.name in PATH_SETTINGS:
            raw = os.path.expanduser(raw)
        try:
            values[field.name] = _convert(field, raw)
        except ValueError:
            raise ValueError(
                f"{source}={raw!r} is not a valid {field.type}; "
                f"give a value like {_default_text(field)}"
            ) from None
    settings = Settings(**values)
    settings.validate()
    return settings
