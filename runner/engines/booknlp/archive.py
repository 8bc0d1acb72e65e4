"""BookNLP's native output files of a job, as one zip archive next to the result.

The archive of the result ``<results>/<job id>.json`` is
``<results>/<job id>.booknlp.zip``. ``runner.protocol.native_archive_path``
derives it, because the front serves and deletes it too. Its members are
BookNLP's files named ``<job id>.<suffix>``.
"""

from __future__ import annotations

import os
import zipfile

from runner.protocol import native_archive_path

# Files BookNLP 1.0.8 writes, in the order it writes them; a job writes those
# its pipeline produces.
NATIVE_SUFFIXES = (".supersense", ".tokens", ".book", ".entities", ".quotes", ".book.html")


def archive_path(result_path: str) -> str:
    """Return the archive path that belongs to ``result_path``."""
    return native_archive_path(result_path)


def write_archive(folder: str, book_id: str, path: str) -> list[str]:
    """Zip BookNLP's files for ``book_id`` from ``folder`` into ``path``.

    The archive is written to ``<path>.part`` and renamed into place.

    Returns:
        The member names, in ``NATIVE_SUFFIXES`` order.
    """
    members = [
        book_id + suffix
        for suffix in NATIVE_SUFFIXES
        if os.path.isfile(os.path.join(folder, book_id + suffix))
    ]
    partial = path + ".part"
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in members:
                archive.write(os.path.join(folder, name), arcname=name)
        os.replace(partial, path)
    except BaseException:
        try:
            os.unlink(partial)
        except FileNotFoundError:
            pass
        raise
    return members
