"""Passage vectors kept on disk, so a restart does not embed the whole knowledge base again.

Only knowledge-base texts are stored, never shoppers' messages. The file name is a hash of the
encoder's id and every text in order, so any edit to the knowledge base or a different encoder
simply misses the cache; a damaged file is ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.nlu.encoder import Vectors

log = logging.getLogger(__name__)


class VectorCache:
    """A folder of ``<hash>.npy`` matrices, one per (encoder, texts) combination."""

    def __init__(self, directory: Path, encoder_id: str) -> None:
        self._directory = directory.expanduser()
        self._encoder_id = encoder_id

    def path_for(self, texts: Sequence[str]) -> Path:
        digest = hashlib.sha256(self._encoder_id.encode())
        for text in texts:
            digest.update(b"\x00")
            digest.update(text.encode("utf-8", "surrogatepass"))
        return self._directory / f"{digest.hexdigest()[:32]}.npy"

    def get(self, texts: Sequence[str], dimension: int) -> Vectors | None:
        """The stored matrix for exactly these texts, or None."""
        path = self.path_for(texts)
        if not path.exists():
            return None
        try:
            matrix: Vectors = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable vector cache %s: %s", path, exc)
            return None
        if matrix.shape != (len(texts), dimension) or matrix.dtype != np.float32:
            log.warning("ignoring vector cache %s of shape %s", path, matrix.shape)
            return None
        return matrix

    def put(self, texts: Sequence[str], matrix: Vectors) -> None:
        """Stores the matrix atomically; a cache that cannot be written only costs time."""
        path = self.path_for(texts)
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self._directory, suffix=".tmp", delete=False) as f:
                np.save(f, np.ascontiguousarray(matrix, dtype=np.float32), allow_pickle=False)
            os.replace(f.name, path)
        except OSError as exc:
            log.warning("could not write vector cache %s: %s", path, exc)
