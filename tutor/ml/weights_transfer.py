"""Weights in parts, for machines reached through a small pipe (the borrowed GPU machine takes 64 MiB a
call and hands back files of at most 16 MiB).

- ``pack_pretrained`` / ``unpack_pretrained``: pretrained encoders (HF folders) as one stream cut into
  ``weights.pt.part-NN`` files, one folder per part so that each call can carry one. Large matrices can
  travel as int8 with one scale per output row (half the size of fp16; used for a teacher's base,
  which fine-tuning then moves much further than that rounding does); the rest travels as fp16.
- ``pack_version`` / ``unpack_version``: a trained version directory (fp16 weights, no checkpoint) as a
  tar cut into ``NAME.tar.part-NN`` files.
"""

from __future__ import annotations

import io
import tarfile
import time
from pathlib import Path

import torch

PART_PREFIX = "weights.pt.part-"
SMALL_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")
QUANTISE_MIN = 100_000  # parameters; smaller tensors (LayerNorm, biases) travel in fp16
PART_BYTES = 15 * 1024 * 1024  # each file stays well under the 16 MB limits of our tooling


def cut(data: bytes, size: int = PART_BYTES) -> list[bytes]:
    """``data`` in consecutive chunks of at most ``size`` bytes."""
    return [data[start : start + size] for start in range(0, len(data), size)]


def pack_model(directory: Path, *, int8: bool) -> dict:
    from safetensors.torch import load_file

    files = {name: (directory / name).read_bytes() for name in SMALL_FILES if (directory / name).exists()}
    tensors: dict = {}
    for key, value in load_file(str(directory / "model.safetensors")).items():
        value = value.float()
        if int8 and value.ndim == 2 and value.numel() >= QUANTISE_MIN:
            scale = value.abs().amax(dim=1, keepdim=True).clamp(min=1e-8) / 127.0
            tensors[key] = {"int8": torch.round(value / scale).to(torch.int8), "scale": scale.half()}
        else:
            tensors[key] = {"fp16": value.half()}
    return {"files": files, "tensors": tensors}


def pack_pretrained(models: dict[str, tuple[Path, bool]], out: str | Path, *, part_bytes: int) -> list[Path]:
    """``models``: name -> (HF folder, int8?). Writes ``{out}0/weights.pt.part-00``, ``{out}1/...``."""
    buffer = io.BytesIO()
    torch.save({name: pack_model(Path(path), int8=int8) for name, (path, int8) in models.items()}, buffer)
    written = []
    for n, chunk in enumerate(cut(buffer.getvalue(), part_bytes)):
        folder = Path(f"{out}{n}")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{PART_PREFIX}{n:02d}"
        path.write_bytes(chunk)
        written.append(path)
    return written


def unpack_pretrained(parts: str | Path, dest: str | Path) -> dict[str, Path]:
    """Join the parts found in ``parts`` and write each model as an HF folder ``dest/NAME`` (fp32)."""
    from safetensors.torch import save_file

    chunks = sorted(Path(parts).glob(f"{PART_PREFIX}*"))
    if not chunks:
        raise FileNotFoundError(f"no {PART_PREFIX}* in {parts}")
    payload = torch.load(io.BytesIO(b"".join(p.read_bytes() for p in chunks)), weights_only=True)
    paths = {}
    for name, packed in payload.items():
        target = Path(dest) / name
        target.mkdir(parents=True, exist_ok=True)
        for file, content in packed["files"].items():
            (target / file).write_bytes(content)
        state = {
            key: (entry["int8"].float() * entry["scale"].float()) if "int8" in entry else entry["fp16"].float()
            for key, entry in packed["tensors"].items()
        }
        save_file({k: v.contiguous() for k, v in state.items()}, str(target / "model.safetensors"))
        paths[name] = target
    return paths


def pack_version(
    version_dir: str | Path, out: str | Path, *, name: str, part_bytes: int = PART_BYTES
) -> list[Path]:
    """A version directory as ``out/NAME.tar.part-NN`` (weights in fp16; no ``checkpoint.pt``, no ONNX export)."""
    from safetensors.torch import load_file, save

    version_dir, out = Path(version_dir), Path(out)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(version_dir.rglob("*")):
            if not path.is_file() or path.name == "checkpoint.pt" or path.suffix == ".onnx":
                continue
            if path.suffix == ".safetensors":
                tensors = load_file(str(path))
                content = save({k: (v.half() if v.is_floating_point() else v) for k, v in tensors.items()})
            else:
                content = path.read_bytes()
            info = tarfile.TarInfo(str(path.relative_to(version_dir)))
            info.size, info.mtime = len(content), int(time.time())
            tar.addfile(info, io.BytesIO(content))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for n, chunk in enumerate(cut(buffer.getvalue(), part_bytes)):
        path = out / f"{name}.tar.part-{n:02d}"
        path.write_bytes(chunk)
        written.append(path)
    return written


def unpack_version(parts: str | Path, version_dir: str | Path, *, name: str) -> Path:
    chunks = sorted(Path(parts).glob(f"{name}.tar.part-*"))
    if not chunks:
        raise FileNotFoundError(f"no {name}.tar.part-* in {parts}")
    version_dir = Path(version_dir)
    version_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(b"".join(p.read_bytes() for p in chunks))) as tar:
        tar.extractall(version_dir, filter="data")
    return version_dir
