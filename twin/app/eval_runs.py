"""Where ``twin eval`` keeps its files, in the data folder's ``eval/``:

* ``sets/<name>.jsonl``: question sets (a header line, then one question a line);
* ``runs.jsonl``: one line per run: its id, time, set, the config that produced it (embedder,
  search and reranker settings, model, LoRA) and its numbers;
* ``runs/<id>.jsonl``: the run's per-question details (hits, answers, judge prompts and verdicts).

Each file is written whole and atomically, through the vault when encryption is on (the
questions and answers quote the user's notes), so an encrypted twin keeps them sealed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.atomic import write_atomic
from twin.core.eval.questions import QuestionSet, dumps, loads
from twin.errors import KnownError

if TYPE_CHECKING:
    from twin.app.vault_service import Vault

_NAME = re.compile(r"^[\w.-]{1,64}$")


class EvalError(KnownError):
    """A question set or run that does not exist or cannot be read."""


class EvalFiles:
    def __init__(self, data_dir: Path, vault: Vault | None = None):
        self.root = data_dir / "eval"
        self.vault = vault

    # -- raw text ---------------------------------------------------------------------------

    def _write(self, path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.vault is not None:
            self.vault.write_text(path, text)
        else:
            write_atomic(path, text)

    def _read(self, path: Path) -> str:
        if self.vault is not None:
            return self.vault.read_text(path)
        return path.read_text(encoding="utf-8")

    # -- question sets ----------------------------------------------------------------------

    def set_path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise EvalError(f"bad set name {name!r}: use letters, digits, '.', '_' or '-'")
        return self.root / "sets" / f"{name}.jsonl"

    def save_set(self, name: str, qs: QuestionSet) -> Path:
        path = self.set_path(name)
        self._write(path, dumps(qs))
        return path

    def load_set(self, name: str) -> QuestionSet:
        path = self.set_path(name)
        try:
            text = self._read(path)
        except FileNotFoundError:
            raise EvalError(f"no question set {name!r} yet: run `twin eval build` first") from None
        try:
            return loads(text)
        except ValueError as e:
            raise EvalError(f"the question set {path} is damaged ({e}): run `twin eval build` again") from None

    # -- runs -------------------------------------------------------------------------------

    @property
    def runs_file(self) -> Path:
        return self.root / "runs.jsonl"

    def runs(self) -> list[dict[str, Any]]:
        """Every run's record, oldest first (damaged lines are skipped)."""
        try:
            text = self._read(self.runs_file)
        except FileNotFoundError:
            return []
        out = []
        for line in text.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and "id" in rec:
                out.append(rec)
        return out

    def add_run(self, record: dict[str, Any], details: list[dict[str, Any]]) -> None:
        self._write(self.root / "runs" / f"{record['id']}.jsonl",
                    "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in details))
        lines = [json.dumps(r, ensure_ascii=False) for r in self.runs()] + [json.dumps(record, ensure_ascii=False)]
        self._write(self.runs_file, "\n".join(lines) + "\n")

    def details(self, run_id: str) -> list[dict[str, Any]]:
        try:
            text = self._read(self.root / "runs" / f"{run_id}.jsonl")
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def find_run(self, ref: str) -> dict[str, Any]:
        """A run by id, unique id prefix, or position (``-1`` the latest, ``-2`` the one before,
        ``1`` the first)."""
        runs = self.runs()
        if not runs:
            raise EvalError("no eval runs yet: run `twin eval run` first")
        if re.fullmatch(r"-?\d{1,4}", ref) and not any(r["id"].startswith(ref) for r in runs):
            i = int(ref)
            try:
                return runs[i - 1 if i > 0 else i]
            except IndexError:
                raise EvalError(f"there are only {len(runs)} runs") from None
        found = [r for r in runs if str(r["id"]).startswith(ref)]
        if len(found) != 1:
            raise EvalError(f"{'no' if not found else 'more than one'} run matches {ref!r} (see `twin eval history`)")
        return found[0]
