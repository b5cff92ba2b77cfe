"""Hidden inputs: drawn from a secret, reproducible per (assignment, submission, task, label).

The same secret regrades a submission on the same inputs; a student who only knows the
published values cannot predict them. The secret stays in the grader process: only the
inputs it produces ever reach the student process, and never through argv or environment.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import numpy as np


def load_or_create_secret(path: Path) -> bytes:
    """Read the secret file, creating it (mode 0600) on first use so reruns are reproducible."""
    if path.is_file():
        data = path.read_bytes().strip()
        if len(data) < 16:
            raise ValueError(f"{path} holds fewer than 16 bytes; delete it to create a new secret")
        return data
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(value + b"\n")
    return value


class HiddenInputs:
    def __init__(self, secret: bytes, assignment: str, submission: str) -> None:
        self._key = hmac.new(secret, f"{assignment}\0{submission}".encode(), hashlib.sha256).digest()

    def seed(self, *labels: str) -> int:
        digest = hmac.new(self._key, "\0".join(labels).encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big")

    def rng(self, *labels: str) -> np.random.Generator:
        return np.random.default_rng(self.seed(*labels))
