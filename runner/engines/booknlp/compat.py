"""Import the ``booknlp`` package on the project's Python, torch and setuptools.

BookNLP 1.0.8 calls ``pkg_resources.resource_filename`` to find its data files,
but setuptools 81 and later no longer ship ``pkg_resources``. When it is
missing, a stand-in module with that one function is present while BookNLP's
modules are imported; they keep their reference to it afterwards.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import os
import sys
import types
from types import ModuleType
from typing import Any

from runner.engines.booknlp.console import booknlp_console

INSTALL_HINT = "pip install --no-deps booknlp==1.0.8"


class BookNLPNotInstalled(ImportError):
    """The ``booknlp`` package is not installed in the runner's environment."""


def _resource_filename(package_or_module: str, resource_name: str) -> str:
    """Return the path of a data file next to a module, as pkg_resources did."""
    module = importlib.import_module(package_or_module)
    directory = os.path.dirname(module.__file__ or "")
    return os.path.join(directory, *resource_name.split("/"))


def _stand_in_pkg_resources() -> ModuleType:
    module = types.ModuleType("pkg_resources")
    module.__doc__ = "Stand-in with resource_filename only, for BookNLP 1.0.8."
    module.resource_filename = _resource_filename  # type: ignore[attr-defined]
    return module


def import_booknlp() -> ModuleType:
    """Import and return ``booknlp.english.english_booknlp``.

    Raises:
        BookNLPNotInstalled: the package is missing. The message gives the
            command that installs it without TensorFlow.
    """
    if importlib.util.find_spec("booknlp") is None:
        raise BookNLPNotInstalled(
            f"the booknlp package is not installed; install it with "
            f"'{INSTALL_HINT}' (see the README's BookNLP section)"
        )
    stand_in = None
    if importlib.util.find_spec("pkg_resources") is None:
        stand_in = _stand_in_pkg_resources()
        sys.modules["pkg_resources"] = stand_in
    try:
        # bert_coref_quote_pronouns prints its device when imported.
        with booknlp_console():
            return importlib.import_module("booknlp.english.english_booknlp")
    finally:
        if stand_in is not None and sys.modules.get("pkg_resources") is stand_in:
            del sys.modules["pkg_resources"]


def utf8_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
    """Open like ``open``, but with UTF-8 as the default text encoding.

    BookNLP 1.0.8 opens the input book without an encoding, so on a host whose
    locale is not UTF-8 it would misread the text. The engine puts this function
    in place of ``open`` in BookNLP's pipeline module while a job runs.
    """
    if "b" not in mode and len(args) < 2 and "encoding" not in kwargs:
        kwargs["encoding"] = "utf-8"
    return builtins.open(file, mode, *args, **kwargs)
