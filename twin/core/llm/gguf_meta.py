"""Read a GGUF file's header in pure Python: metadata and tensor table, no weights.

Used before anything native touches a user's file: it tells "not a GGUF", "truncated
download" and "wrong file" apart with a clear message, and yields what must be known before
loading (architecture, trained context, chat template, name) in a few milliseconds.
Arrays are skipped except for their length (the token list alone can be 150k strings).

Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
"""

from __future__ import annotations

import re
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from twin.core.llm.errors import ModelFileError
from twin.messages import msg

GGUF_MAGIC = b"GGUF"
#: The formats before GGUF (llama.cpp dropped them in 2023), as their first four bytes.
_OLD_MAGICS = {b"lmgg": "GGML", b"fmgg": "GGMF", b"tjgg": "GGJT", b"ggml": "GGML", b"ggjt": "GGJT"}
_MAX_DIMS = 4  # GGML_MAX_DIMS
_MAX_ELEMENTS = 1 << 50  # one tensor of a quadrillion values: corruption, not a model
DEFAULT_ALIGNMENT = 32
_LAYER = re.compile(r"blk\.(\d+)\.")
_BASE_NAME = re.compile(r"(?<![a-z])base(?![a-z])", re.IGNORECASE)

# ggml type id -> (elements per block, bytes per block); types not listed skip the size check.
_TYPE_SIZES: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 40), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176),
    14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98),
    19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1),
    25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2),
    34: (256, 54), 35: (256, 66), 39: (32, 17),
}

# GGUF value types: id -> struct format (scalars); 8 = string, 9 = array.
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
            10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_MAX_STRING = 64 << 20  # a chat template is kilobytes; anything this long is corruption


@dataclass(frozen=True)
class GgufHeader:
    """What the header says. ``metadata`` holds scalars and strings; arrays as their length."""

    path: str
    version: int
    tensor_count: int
    metadata: dict[str, object] = field(repr=False)
    data_end: int  # where the last tensor's data ends (0 when a type's size is unknown)
    file_size: int
    #: bytes of each repeating layer's tensors (``blk.N.*``), by N; empty when a type's size is unknown
    layer_bytes: tuple[int, ...] = ()
    #: bytes of the other tensors (``token_embd.weight``, ``output.weight``, ...) by name
    other_bytes: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", ""))

    @property
    def name(self) -> str:
        return str(self.metadata.get("general.name", "") or Path(self.path).stem)

    def arch_value(self, key: str, default: int = 0) -> int:
        value = self.metadata.get(f"{self.architecture}.{key}", default)
        return int(value) if isinstance(value, (int, float)) else default

    @property
    def context_length(self) -> int:
        return self.arch_value("context_length")

    @property
    def block_count(self) -> int:
        return self.arch_value("block_count")

    @property
    def chat_template(self) -> str | None:
        value = self.metadata.get("tokenizer.chat_template")
        return value if isinstance(value, str) and value.strip() else None


class _Reader:
    def __init__(self, f: BinaryIO, path: str, size: int):
        self.f = f
        self.path = path
        self.size = size
        self.key = ""  # the metadata key being read (for messages)

    def take(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise ModelFileError(msg("model.header_truncated", path=self.path))
        return data

    def unpack(self, fmt: str) -> Any:  # struct.unpack: tuple[Any, ...]
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        n = int(self.unpack("<Q"))
        if n > _MAX_STRING or n > self.size:
            detail = (msg("corrupt.text_in", key=self.key, n=n, size=self.size) if self.key else
                      msg("corrupt.text", n=n, size=self.size))
            raise ModelFileError(msg("model.corrupt", path=self.path, detail=detail))
        return self.take(n).decode("utf-8", errors="replace")

    def value(self, vtype: int) -> object:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            item_type = int(self.unpack("<I"))
            count = int(self.unpack("<Q"))
            if count > self.size:  # every item takes at least one byte
                raise ModelFileError(msg("model.corrupt", path=self.path,
                                         detail=msg("corrupt.list", key=self.key, n=count, size=self.size)))
            if item_type in _SCALARS:
                self.f.seek(struct.calcsize(_SCALARS[item_type]) * count, 1)
            else:
                for _ in range(count):
                    self.value(item_type)
            return count
        raise ModelFileError(msg("model.corrupt", path=self.path,
                                 detail=msg("corrupt.value_type", key=self.key, type=str(vtype))))


def read_gguf_header(path: str | Path) -> GgufHeader:
    """Parse ``path``'s header and tensor table.

    Raises:
        ModelFileError: missing, unreadable, not a GGUF, corrupt or truncated.
    """
    p = Path(path)
    try:
        st = p.stat()
    except (FileNotFoundError, NotADirectoryError) as e:
        raise ModelFileError(msg("model.not_found", path=p)) from e
    except OSError as e:  # e.g. a folder on the way that this user may not enter
        raise ModelFileError(msg("model.unreadable", path=p, error=e.strerror or str(e))) from e
    if stat.S_ISDIR(st.st_mode):
        raise ModelFileError(msg("model.is_folder", path=p))
    if not stat.S_ISREG(st.st_mode):
        raise ModelFileError(msg("model.not_regular", path=p))
    try:
        size = st.st_size
        if size == 0:
            raise ModelFileError(msg("model.empty", path=p))
        with p.open("rb") as f:
            r = _Reader(f, str(p), size)
            magic = r.take(4)
            if magic != GGUF_MAGIC:
                old = _OLD_MAGICS.get(magic)
                raise ModelFileError(msg("model.old_format", path=p, format=old) if old else
                                     msg("model.not_gguf", path=p))
            version = int(r.unpack("<I"))
            if version not in (2, 3):
                raise ModelFileError(msg("model.bad_version", path=p, version=str(version)))
            n_tensors = int(r.unpack("<Q"))
            n_kv = int(r.unpack("<Q"))
            for n, what in ((n_tensors, "corrupt.tensors"), (n_kv, "corrupt.entries")):
                if n > 1_000_000 or n > size:
                    raise ModelFileError(msg("model.corrupt", path=p, detail=msg("corrupt.count", n=n, what=msg(what))))
            meta: dict[str, object] = {}
            for _ in range(n_kv):
                r.key = ""
                key = r.string()
                r.key = key
                meta[key] = r.value(int(r.unpack("<I")))
            r.key = ""
            data_end, layers, others = _tensor_table_end(r, n_tensors, meta)
    except OSError as e:
        raise ModelFileError(msg("model.unreadable", path=p, error=e.strerror or str(e))) from e
    if data_end > size:
        raise ModelFileError(msg("model.truncated", path=p, need=data_end, size=size))
    return GgufHeader(str(p), version, n_tensors, meta, data_end, size, layers, others)


def _tensor_table_end(r: _Reader, n_tensors: int,
                      meta: dict[str, object]) -> tuple[int, tuple[int, ...], dict[str, int]]:
    """Read the tensor infos; return the end offset of the tensor data (0 if unknowable), the
    bytes of each repeating layer (``blk.N.``) and of every other tensor by name."""
    last_end = 0
    known = True
    layers: dict[int, int] = {}
    others: dict[str, int] = {}
    for _ in range(n_tensors):
        name = r.string()
        n_dims = int(r.unpack("<I"))
        if n_dims > _MAX_DIMS:
            raise ModelFileError(msg("model.corrupt", path=r.path,
                                     detail=msg("corrupt.dims", name=name, n=n_dims, max=_MAX_DIMS)))
        shape = [int(r.unpack("<Q")) for _ in range(n_dims)]
        n_el = 1
        for d in shape:
            n_el *= d
        if n_el > _MAX_ELEMENTS:
            raise ModelFileError(msg("model.corrupt", path=r.path,
                                     detail=msg("corrupt.shape", name=name, shape=" x ".join(map(str, shape)))))
        ttype = int(r.unpack("<I"))
        offset = int(r.unpack("<Q"))
        sizes = _TYPE_SIZES.get(ttype)
        if sizes is None:
            known = False
            continue
        block, nbytes = sizes
        tensor_bytes = n_el // block * nbytes
        last_end = max(last_end, offset + tensor_bytes)
        layer = _LAYER.match(name)
        if layer:
            i = int(layer.group(1))
            layers[i] = layers.get(i, 0) + tensor_bytes
        else:
            others[name] = others.get(name, 0) + tensor_bytes
    align_value = meta.get("general.alignment", DEFAULT_ALIGNMENT)
    align = int(align_value) if isinstance(align_value, int) and align_value > 0 else DEFAULT_ALIGNMENT
    pos = r.f.tell()
    data_start = (pos + align - 1) // align * align
    if not known:
        return 0, (), {}
    per_layer = tuple(layers.get(i, 0) for i in range(max(layers) + 1)) if layers else ()
    return data_start + last_end, per_layer, others


def check_model_header(header: GgufHeader) -> None:
    """Refuse GGUFs that are readable but not a model llama.cpp can run, with the reason.

    Raises:
        ModelFileError: no architecture named, or a LoRA adapter chosen as the model.
    """
    if header.metadata.get("general.type") == "adapter":
        raise ModelFileError(msg("model.is_lora", path=header.path))
    if not header.architecture:
        raise ModelFileError(msg("model.no_architecture", path=header.path))


def detect_kind(name: str, chat_template: str | None, override: str = "auto") -> str:
    """"base" for a model without a chat template or named "…Base…", else "instruct"."""
    if override in ("base", "instruct"):
        return override
    if not chat_template or _BASE_NAME.search(name):
        return "base"
    return "instruct"
