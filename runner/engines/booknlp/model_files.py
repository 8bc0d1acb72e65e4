"""BookNLP's checkpoint files: their names per model size and where they live.

BookNLP 1.0.8 (``english/english_booknlp.py``) names three checkpoints per model
size and derives each one's base BERT from its file name, for example
``entities_google_bert_uncased_L-4_H-256_A-4-v1.0.model`` is built on
``google/bert_uncased_L-4_H-256_A-4``. The ``custom`` model keeps the same
naming rule, with its three files in the ``custom`` folder of the model directory.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import shutil
import urllib.error
import urllib.request

from runner.engines.booknlp.settings import (
    ALLOW_DOWNLOAD_VARIABLE,
    MODEL_DIR_VARIABLE,
    BookNLPSettings,
)

logger = logging.getLogger(__name__)

MODEL_NAMES = ("small", "big", "custom")
CUSTOM_FOLDER = "custom"
DOWNLOAD_TIMEOUT_S = 60.0

# Roles in the order BookNLP's pipeline uses them, with the file-name prefix
# that BookNLP strips before it reads the base BERT name.
ROLE_PREFIXES = {"entity": "entities_", "speaker": "speaker_", "coref": "coref_"}

# File names from BookNLP 1.0.8, english/english_booknlp.py.
PUBLISHED_FILES: dict[str, dict[str, str]] = {
    "small": {
        "entity": "entities_google_bert_uncased_L-4_H-256_A-4-v1.0.model",
        "speaker": "speaker_google_bert_uncased_L-8_H-256_A-4-v1.0.1.model",
        "coref": "coref_google_bert_uncased_L-2_H-256_A-4-v1.0.model",
    },
    "big": {
        "entity": "entities_google_bert_uncased_L-6_H-768_A-12-v1.0.model",
        "speaker": "speaker_google_bert_uncased_L-12_H-768_A-12-v1.0.1.model",
        "coref": "coref_google_bert_uncased_L-12_H-768_A-12-v1.0.model",
    },
}

# BookNLP reads the layer count and hidden size from this part of the base name,
# and fails an assertion when it is missing.
_SIZE_PATTERN = re.compile(r".*-(\d+)_H-(\d+)_A-.*")


class ModelFilesMissing(Exception):
    """A model size lacks one of its checkpoint files, or has more than one."""


@dataclasses.dataclass(frozen=True)
class ModelFiles:
    """The three checkpoint paths of one model size."""

    model: str
    entity: str
    speaker: str
    coref: str

    def paths(self) -> dict[str, str]:
        """Return the role to path mapping, in pipeline order."""
        return {"entity": self.entity, "speaker": self.speaker, "coref": self.coref}

    def base_models(self) -> dict[str, str]:
        """Return the base BERT name of each role, as BookNLP derives it."""
        return {
            role: base_model_name(os.path.basename(path), ROLE_PREFIXES[role])
            for role, path in self.paths().items()
        }


def base_model_name(file_name: str, prefix: str) -> str:
    """Return the Hugging Face name of a checkpoint's base BERT.

    Follows BookNLP 1.0.8: ``google_bert`` becomes ``google/bert``, and the
    ``.model`` suffix, the role prefix and the ``-v<version>`` tail are removed.

    Raises:
        ModelFilesMissing: the name carries no ``-<layers>_H-<hidden>_A-`` part.
    """
    name = file_name.replace("google_bert", "google/bert", 1)
    name = re.sub(r"\.model$", "", name)
    name = name.removeprefix(prefix)
    name = re.sub(r"-v\d.*$", "", name)
    if _SIZE_PATTERN.match(name) is None:
        raise ModelFilesMissing(
            f"checkpoint file name {file_name!r} does not name its base BERT the "
            "way BookNLP expects; rename it like "
            "'entities_google_bert_uncased_L-4_H-256_A-4-v1.0.model'"
        )
    return name


def locate_model_files(model: str, settings: BookNLPSettings) -> ModelFiles:
    """Find the checkpoints of ``model`` in the model directory.

    With downloads allowed, a missing published file is fetched first.

    Raises:
        ValueError: ``model`` is not small, big or custom.
        ModelFilesMissing: a file is missing (the message names it and where
            BookNLP publishes it) or a download failed.
    """
    if model == CUSTOM_FOLDER:
        return _locate_custom(settings)
    if model not in PUBLISHED_FILES:
        raise ValueError(f"unknown BookNLP model {model!r}; expected one of {MODEL_NAMES}")
    paths = {}
    missing = []
    for role, file_name in PUBLISHED_FILES[model].items():
        path = os.path.join(settings.model_dir, file_name)
        if not os.path.isfile(path) and settings.allow_download:
            _download(settings.download_url + file_name, path)
        if not os.path.isfile(path):
            missing.append(path)
        paths[role] = path
    if missing:
        urls = [settings.download_url + os.path.basename(path) for path in missing]
        raise ModelFilesMissing(
            f"BookNLP model {model!r} is missing {len(missing)} file(s): "
            f"{', '.join(missing)}. BookNLP publishes them at {', '.join(urls)}; "
            f"download them into {settings.model_dir} (or point "
            f"{MODEL_DIR_VARIABLE} at the folder that holds them), or set "
            f"{ALLOW_DOWNLOAD_VARIABLE}=1 to let the engine download them"
        )
    return ModelFiles(model, paths["entity"], paths["speaker"], paths["coref"])


def _locate_custom(settings: BookNLPSettings) -> ModelFiles:
    folder = os.path.join(settings.model_dir, CUSTOM_FOLDER)
    names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    paths = {}
    for role, prefix in ROLE_PREFIXES.items():
        found = [n for n in names if n.startswith(prefix) and n.endswith(".model")]
        if len(found) != 1:
            raise ModelFilesMissing(
                f"BookNLP model 'custom' needs exactly one {prefix}*.model file in "
                f"{folder}; found {found or 'none'}. Put your trained checkpoints "
                "there, named like BookNLP's own (for example "
                f"{PUBLISHED_FILES['small'][role]!r})"
            )
        paths[role] = os.path.join(folder, found[0])
    files = ModelFiles("custom", paths["entity"], paths["speaker"], paths["coref"])
    files.base_models()  # Raises now, with the file name, rather than in BookNLP.
    return files


def _download(url: str, path: str) -> None:
    """Fetch ``url`` into ``path`` through a ``.part`` file.

    Raises:
        ModelFilesMissing: the download failed.
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = path + ".part"
    logger.info("downloading BookNLP model file %s to %s", url, path)
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            with open(partial, "wb") as out:
                shutil.copyfileobj(response, out)
        os.replace(partial, path)
    except (OSError, urllib.error.URLError) as error:
        try:
            os.unlink(partial)
        except FileNotFoundError:
            pass
        raise ModelFilesMissing(
            f"downloading {url} to {path} failed: {error}; download it by hand "
            f"into {os.path.dirname(path)}"
        ) from error
    logger.info("downloaded %s (%d bytes)", path, os.path.getsize(path))
