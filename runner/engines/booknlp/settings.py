"""Settings of the "booknlp" engine, read from environment variables in the child."""

from __future__ import annotations

import dataclasses
import os

MODEL_DIR_VARIABLE = "BOOKNLP_JOBS_BOOKNLP_MODEL_DIR"
MODELS_LOADED_VARIABLE = "BOOKNLP_JOBS_BOOKNLP_MODELS_LOADED"
ALLOW_DOWNLOAD_VARIABLE = "BOOKNLP_JOBS_BOOKNLP_ALLOW_DOWNLOAD"
DOWNLOAD_URL_VARIABLE = "BOOKNLP_JOBS_BOOKNLP_DOWNLOAD_URL"

# The folder in which BookNLP 1.0.8 itself keeps and downloads its models
# (english_booknlp.py).
DEFAULT_MODEL_DIR = os.path.join("~", "booknlp_models")
# The base URL that BookNLP 1.0.8 downloads its model files from.
BOOKNLP_MODELS_URL = "http://people.ischool.berkeley.edu/~dbamman/booknlp_models/"

_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


@dataclasses.dataclass(frozen=True)
class BookNLPSettings:
    """The engine's configuration.

    Attributes:
        model_dir: folder with BookNLP's model files and the base BERT folders.
        models_loaded: maximum number of model sizes held in memory at once.
        allow_download: whether missing files may be fetched at load time.
        download_url: base URL of BookNLP's model files, ending in ``/``.
    """

    model_dir: str
    models_loaded: int = 1
    allow_download: bool = False
    download_url: str = BOOKNLP_MODELS_URL


def read_settings(environ: dict[str, str] | None = None) -> BookNLPSettings:
    """Build the settings from ``environ`` (the process environment by default).

    Raises:
        ValueError: a variable has a value that cannot be parsed.
    """
    environ = dict(os.environ if environ is None else environ)
    model_dir = environ.get(MODEL_DIR_VARIABLE) or DEFAULT_MODEL_DIR
    raw_loaded = environ.get(MODELS_LOADED_VARIABLE, "1").strip()
    try:
        models_loaded = int(raw_loaded)
    except ValueError:
        models_loaded = 0
    if models_loaded < 1:
        raise ValueError(
            f"{MODELS_LOADED_VARIABLE}={raw_loaded!r} is invalid; set it to a whole "
            "number of at least 1 (the model sizes kept loaded at once)"
        )
    raw_download = environ.get(ALLOW_DOWNLOAD_VARIABLE, "").strip().lower()
    if raw_download not in _TRUE_WORDS | _FALSE_WORDS:
        raise ValueError(
            f"{ALLOW_DOWNLOAD_VARIABLE}={raw_download!r} is invalid; set it to 1 "
            "(allow downloads) or 0 (the default: never download)"
        )
    download_url = environ.get(DOWNLOAD_URL_VARIABLE) or BOOKNLP_MODELS_URL
    if not download_url.endswith("/"):
        download_url += "/"
    return BookNLPSettings(
        model_dir=os.path.abspath(os.path.expanduser(model_dir)),
        models_loaded=models_loaded,
        allow_download=raw_download in _TRUE_WORDS,
        download_url=download_url,
    )
