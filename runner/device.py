"""Pick the torch device an engine runs on."""

from __future__ import annotations

import os


def detect_device() -> tuple[str, str | None]:
    """Return ``("cuda", device name)`` when CUDA is usable, else ``("cpu", None)``.

    ``BOOKNLP_JOBS_DEVICE=cpu`` forces the CPU even on a GPU box.
    """
    import torch  # Imported here so that only the child pays for it.

    if os.environ.get("BOOKNLP_JOBS_DEVICE", "").lower() == "cpu":
        return "cpu", None
    if torch.cuda.is_available():
        return "cuda", torch.cuda.get_device_name(0)
    return "cpu", None
