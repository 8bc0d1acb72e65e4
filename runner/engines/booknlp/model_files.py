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
import zipfile
from collections.abc import Mapping
from typing import Any

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

# Names of each role's model in error messages.
ROLE_TITLES = {
    "entity": "entity tagger",
    "speaker": "speaker attribution",
    "coref": "coreference",
}

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
# Layers, hidden size and attention heads in a base BERT name.
_SIZE_PART = re.compile(r"L-(\d+)_H-(\d+)_A-(\d+)")
# State dict keys of the BERT inside a checkpoint, under any prefix.
_LAYER_KEY = re.compile(r"(?:^|\.)encoder\.layer\.(\d+)\.")
_WORD_EMBEDDINGS_KEY = re.compile(r"(?:^|\.)embeddings\.word_embeddings\.weight$")
# torch.save writes a zip archive since torch 1.6. Older checkpoints are pickles.
_ZIP_MAGIC = b"PK\x03\x04"
# Google's BERT miniatures, and so BookNLP's base BERTs, use 64-dimensional heads.
_HEAD_SIZE = 64
# Errors quoted in messages are cut to this length. The full error stays chained.
_BRIEF_CHARS = 200


class ModelFilesMissing(Exception):
    """A model size lacks one of its checkpoint files, or has more than one."""


class ModelFileInvalid(Exception):
    """A checkpoint that cannot be read, or whose weights do not fit the model built for it."""


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

    With downloads allowed, a missing published file is fetched first. Each
    zip-format checkpoint is checked for its central directory, which catches a
    truncated file before anything is unloaded to make room for it.

    Raises:
        ValueError: ``model`` is not small, big or custom.
        ModelFilesMissing: a file is missing (the message names it and where
            BookNLP publishes it) or a download failed.
        ModelFileInvalid: a checkpoint is a truncated or corrupt zip archive.
    """
    if model == CUSTOM_FOLDER:
        files = _locate_custom(settings)
        check_checkpoint_archives(files, settings)
        return files
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
    files = ModelFiles(model, paths["entity"], paths["speaker"], paths["coref"])
    check_checkpoint_archives(files, settings)
    return files


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


def check_checkpoint_archives(files: ModelFiles, settings: BookNLPSettings) -> None:
    """Check that each zip-format checkpoint of ``files`` opens as a zip archive.

    Opening reads only the archive's central directory, at the end of the file,
    so this is cheap. Checkpoints in torch's older pickle format are not checked.

    Raises:
        ModelFileInvalid: a checkpoint starts like a zip archive but cannot be
            opened as one (usually a truncated download).
    """
    for role, path in files.paths().items():
        with open(path, "rb") as handle:
            if handle.read(len(_ZIP_MAGIC)) != _ZIP_MAGIC:
                continue
        try:
            with zipfile.ZipFile(path):
                pass
        except (zipfile.BadZipFile, OSError) as error:
            raise unreadable_checkpoint(files, role, error, settings) from error


def checkpoint_bert_size(state: Mapping[str, Any]) -> tuple[int, int] | None:
    """Return the layer count and hidden size of the BERT whose weights ``state`` holds.

    Returns None when ``state`` has no BERT embedding or encoder layer weights.
    """
    layers = -1
    hidden = None
    for key, value in state.items():
        name = str(key)
        layer = _LAYER_KEY.search(name)
        if layer is not None:
            layers = max(layers, int(layer.group(1)))
        elif _WORD_EMBEDDINGS_KEY.search(name) and len(getattr(value, "shape", ())) == 2:
            hidden = int(value.shape[1])
    if layers < 0 or hidden is None:
        return None
    return layers + 1, hidden


def unreadable_checkpoint(
    files: ModelFiles, role: str, cause: BaseException, settings: BookNLPSettings
) -> ModelFileInvalid:
    """Return the error for a checkpoint of ``files`` that cannot be read."""
    path = files.paths()[role]
    return ModelFileInvalid(
        f"BookNLP model {files.model!r}: the {ROLE_TITLES[role]} checkpoint {path} "
        f"cannot be read ({_brief(cause)}). The file is probably "
        f"truncated or corrupt. {_replace_hint(files, role, settings)}"
    )


def mismatched_checkpoint(
    files: ModelFiles,
    role: str,
    cause: BaseException,
    trained_size: tuple[int, int] | None,
    settings: BookNLPSettings,
) -> ModelFileInvalid:
    """Return the error for a checkpoint whose weights do not fit the model built for it.

    ``trained_size`` is the layer count and hidden size found in the checkpoint.
    """
    path = files.paths()[role]
    file_name = os.path.basename(path)
    base = base_model_name(file_name, ROLE_PREFIXES[role])
    named = _SIZE_PART.search(base)
    named_layers, named_hidden = (int(named.group(1)), int(named.group(2))) if named else (0, 0)
    start = f"BookNLP model {files.model!r}: the {ROLE_TITLES[role]} checkpoint {path}"
    if trained_size is None or named is None or trained_size == (named_layers, named_hidden):
        return ModelFileInvalid(
            f"{start} does not fit the model that BookNLP 1.0.8 builds for it on {base}, "
            f"the base BERT in its file name ({_brief(cause)}). "
            f"{_replace_hint(files, role, settings)}"
        )
    layers, hidden = trained_size
    heads = hidden // _HEAD_SIZE if hidden % _HEAD_SIZE == 0 else None
    size_part = f"L-{layers}_H-{hidden}_A-{heads if heads else '<heads>'}"
    renamed = _SIZE_PART.sub(size_part, file_name, count=1)
    head_note = (
        f" (A-{heads} assumes {_HEAD_SIZE}-dimensional attention heads, as in "
        "Google's BERT miniatures)"
        if heads
        else ""
    )
    message = (
        f"{start} does not match the base BERT size in its file name. The name gives "
        f"{base} ({named_layers} layers, hidden size {named_hidden}), but the "
        f"checkpoint holds a BERT with {layers} layers and hidden size {hidden}. "
    )
    if files.model == CUSTOM_FOLDER:
        message += f"Rename it to the size it was trained with, for example {renamed}{head_note}."
    else:
        folder = os.path.join(settings.model_dir, CUSTOM_FOLDER)
        message += (
            f"{_replace_hint(files, role, settings)} If it is a checkpoint you "
            f"trained, move it to {folder} and name it after the size it was "
            f"trained with, for example {renamed}{head_note}."
        )
    return ModelFileInvalid(message)


def _brief(cause: BaseException) -> str:
    """Return the error's type and first lines, at most ``_BRIEF_CHARS`` characters."""
    text = " ".join(line.strip() for line in str(cause).splitlines()[:2])
    if len(text) > _BRIEF_CHARS:
        text = text[: _BRIEF_CHARS - 3] + "..."
    return f"{type(cause).__name__}: {text}"


def _replace_hint(files: ModelFiles, role: str, settings: BookNLPSettings) -> str:
    path = files.paths()[role]
    if files.model == CUSTOM_FOLDER:
        return f"Copy your trained checkpoint to {path} again."
    url = settings.download_url + os.path.basename(path)
    if settings.allow_download:
        return f"Download it again from {url}, or delete it so that the engine downloads it again."
    return (
        f"Download it again from {url} into {settings.model_dir}, or delete it and "
        f"set {ALLOW_DOWNLOAD_VARIABLE}=1 to let the engine download it."
    )
