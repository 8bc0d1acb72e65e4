"""Engine implementations, looked up by the names in ``runner.protocol.ENGINES``."""

from __future__ import annotations

import importlib

from runner.engine import Engine

_MODULES = {
    "booknlp": "runner.engines.booknlp_engine",
    "spacy": "runner.engines.spacy_engine",
    "test": "runner.engines.test_engine",
}


def load_engine(name: str) -> Engine:
    """Import and construct the engine called ``name``.

    Raises:
        ValueError: ``name`` is not a known engine.
    """
    if name not in _MODULES:
        raise ValueError(f"unknown engine {name!r}; expected one of {sorted(_MODULES)}")
    module = importlib.import_module(_MODULES[name])
    return module.create_engine()
