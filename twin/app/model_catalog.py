"""The models twin offers (``resources/models/catalog.toml``) and how each fits this machine.

The catalog is data, not code: families (the shapes that decide memory) and models (one
GGUF, or the parts of a split one, in a Hugging Face repository, with its published size),
plus the multilingual embedding models. :func:`assess` runs the same fit as loading does
(:func:`twin.core.llm.fit.choose_gpu_layers`) on each model's estimated layout against the
measured memory, and marks one recommendation: the best model that runs wholly on the GPU;
without one, the best that runs partly on it; without a GPU, the fastest good one for the CPU.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twin.core.llm.fit import Fit, Memory, ModelLayout, choose_gpu_layers
from twin.errors import KnownError

log = logging.getLogger("twin.models")

CATALOG_PARTS = ("models", "catalog.toml")
#: better quality first
QUANT_QUALITY = {"Q8_0": 4, "Q6_K": 3, "Q5_K_M": 2, "Q4_K_M": 1}
_VERDICT_RANK = {"gpu": 3, "partial": 2, "cpu": 1, "too-big": 0}


class CatalogError(KnownError):
    """The catalog file is missing or malformed (a broken install)."""


@dataclass(frozen=True)
class Family:
    id: str
    label: str
    architecture: str
    shape: dict[str, Any]  # n_layer, n_embd, … as in the file
    note: str = ""

    @property
    def params(self) -> int:
        """Total weights, from the shapes (for ordering: bigger is better)."""
        s = self.shape
        attn = s["n_embd"] * s["head_dim"] * (2 * s["n_head"] + 2 * s["n_head_kv"])
        ffn = 3 * s["n_embd"] * (s.get("n_ff_exp", 0) * s.get("n_expert", 0) or s["n_ff"])
        return int(s["n_layer"] * (attn + ffn) + s["n_vocab"] * s["n_embd"] * (1 if s.get("tied_embeddings") else 2))


@dataclass(frozen=True)
class CatalogModel:
    id: str
    family: Family
    kind: str  # "instruct" | "base"
    quant: str
    repo: str
    files: tuple[str, ...]  # one GGUF, or every part of a split one in order
    size: int  # bytes, as published

    @property
    def label(self) -> str:
        base = " Base" if self.kind == "base" and "Base" not in self.family.label else ""
        return f"{self.family.label}{base} {self.quant}"

    @property
    def first_file(self) -> str:
        return self.files[0]

    def layout(self) -> ModelLayout:
        s = self.family.shape
        return ModelLayout.from_shape(
            name=self.label, n_layer=s["n_layer"], n_embd=s["n_embd"], n_head=s["n_head"],
            n_head_kv=s["n_head_kv"], head_dim=s["head_dim"], n_vocab=s["n_vocab"],
            context_length=s["context_length"], file_bytes=self.size, n_ff=s.get("n_ff", 0),
            n_expert=s.get("n_expert", 0), n_expert_used=s.get("n_expert_used", 0),
            n_ff_exp=s.get("n_ff_exp", 0), tied_embeddings=bool(s.get("tied_embeddings")))


@dataclass(frozen=True)
class Embedder:
    id: str  # the hub repository (sentence-transformers model name)
    label: str
    size: int
    dim: int
    note: str = ""


@dataclass(frozen=True)
class Catalog:
    families: dict[str, Family]
    models: tuple[CatalogModel, ...]
    embedders: tuple[Embedder, ...]

    def get(self, model_id: str) -> CatalogModel | None:
        return next((m for m in self.models if m.id == model_id), None)

    def find(self, name: str) -> CatalogModel | None:
        """A model by id, or by its (first) file name, case-insensitive."""
        low = name.lower()
        return next((m for m in self.models if low in (m.id.lower(), m.first_file.lower())), None)


def catalog_file() -> Path:
    """Where the catalog is: the resources folder (:mod:`twin.assets`: package data in a wheel,
    ``resources/`` in a checkout, ``TWIN_RESOURCES``)."""
    try:
        from twin.assets import resource_path

        found = resource_path(*CATALOG_PARTS)
        if found is not None:
            return found
    except ImportError:  # pragma: no cover - an older tree without twin.assets
        pass
    return Path(__file__).resolve().parents[2] / "resources" / Path(*CATALOG_PARTS)


_SHAPE_KEYS = ("n_layer", "n_embd", "n_head", "n_head_kv", "head_dim", "n_vocab", "context_length")


def parse_catalog(text: str, origin: str = "catalog") -> Catalog:
    """Parse and check the catalog's TOML text.

    Raises:
        CatalogError: not TOML, or an entry lacks what twin needs.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CatalogError(f"{origin}: not valid TOML: {e}") from e
    families: dict[str, Family] = {}
    for fid, f in (data.get("families") or {}).items():
        missing = [k for k in _SHAPE_KEYS if not isinstance(f.get(k), int) or f[k] <= 0]
        if missing or not (f.get("n_ff") or f.get("n_expert")):
            raise CatalogError(f"{origin}: family '{fid}' lacks {', '.join(missing) or 'n_ff'}")
        families[fid] = Family(fid, str(f.get("label", fid)), str(f.get("architecture", "")),
                               {k: v for k, v in f.items() if k not in ("label", "architecture", "note")},
                               str(f.get("note", "")))
    models = []
    for i, m in enumerate(data.get("models") or []):
        where = f"{origin}: models[{i}] ({m.get('id', '?')})"
        fam = families.get(m.get("family", ""))
        files = m.get("files")
        if fam is None:
            raise CatalogError(f"{where}: unknown family '{m.get('family')}'")
        if not (isinstance(files, list) and files and all(isinstance(x, str) and x.endswith(".gguf") for x in files)):
            raise CatalogError(f"{where}: 'files' must list the GGUF file(s)")
        if not isinstance(m.get("size"), int) or m["size"] <= 0:
            raise CatalogError(f"{where}: 'size' must be the size in bytes")
        if m.get("kind") not in ("instruct", "base"):
            raise CatalogError(f"{where}: 'kind' must be 'instruct' or 'base'")
        models.append(CatalogModel(str(m["id"]), fam, m["kind"], str(m.get("quant", "")), str(m["repo"]),
                                   tuple(files), int(m["size"])))
    ids = [m.id for m in models]
    if len(ids) != len(set(ids)):
        raise CatalogError(f"{origin}: model ids must be unique")
    embedders = tuple(Embedder(str(e["id"]), str(e.get("label", e["id"])), int(e.get("size", 0)),
                               int(e.get("dim", 0)), str(e.get("note", "")))
                      for e in data.get("embedders") or [])
    return Catalog(families, tuple(models), embedders)


def load_catalog(path: Path | None = None) -> Catalog:
    """The catalog (from :func:`catalog_file` unless ``path`` is given)."""
    p = path or catalog_file()
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise CatalogError(f"The model catalog {p} cannot be read ({e.strerror or e}): reinstall twin.") from e
    return parse_catalog(text, str(p))


# -- fit and recommendation -----------------------------------------------------------------


@dataclass(frozen=True)
class Assessment:
    model: CatalogModel
    fit: Fit
    recommended: bool = False

    @property
    def summary(self) -> str:
        return {"gpu": "fits on the GPU", "partial": f"partly on the GPU ({self.fit.n_gpu_layers}/"
                f"{self.fit.total_layers} layers)", "cpu": "runs on the CPU (slowly)",
                "too-big": "too big for this machine"}[self.fit.verdict]


def _score(a: Assessment) -> tuple[int, ...]:
    v = a.fit.verdict
    quality = QUANT_QUALITY.get(a.model.quant, 0)
    if v == "cpu":
        quality = -quality  # on the CPU, smaller is faster
    # the 2507 update of the same family answers better than the April release
    newer = 1 if "2507" in a.model.family.id else 0
    share = a.fit.n_gpu_layers * 100 // max(1, a.fit.total_layers) if v == "partial" else 0
    return (_VERDICT_RANK[v], share // 25, a.model.family.params // 10**9, newer, quality)


def assess(catalog: Catalog, memory: Memory, *, n_ctx: int = 32768, kv_type: str = "f16", n_ubatch: int = 2048,
           flash_attn: bool = True, gpu_supported: bool = True, kind: str = "instruct") -> list[Assessment]:
    """Every catalog model fitted to ``memory``; the best of ``kind`` marked recommended."""
    out = [Assessment(m, choose_gpu_layers(m.layout(), memory, n_ctx=n_ctx, kv_type=kv_type, n_ubatch=n_ubatch,
                                           flash_attn=flash_attn, gpu_supported=gpu_supported))
           for m in catalog.models]
    candidates = [a for a in out if a.model.kind == kind and a.fit.fits]
    if candidates:
        best = max(candidates, key=_score)
        out = [Assessment(a.model, a.fit, a is best) for a in out]
    return out
