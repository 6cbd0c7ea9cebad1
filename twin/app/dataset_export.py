"""``twin dataset export``: an SFT dataset from the diaries and the starred chat answers.

The steps, each in ``twin.core.dataset`` as pure logic: walk the source folders with the
index's own file filter (the settings' exclusions apply), read and parse each file as the
indexer does, split it into entries (one per dated section), drop private entries, filter by
date and length, drop exact and near duplicates, cut long entries into parts within the token
budget (at paragraph and sentence boundaries, with the indexer's chunker), build examples,
assign train/validation by a hash of the entry id, write ``<format>/train.jsonl`` and
``<format>/val.jsonl`` per format, ``stats.json`` and a ``README.md`` card.

Invariants: nothing is written outside the output folder; an existing non-empty folder is
refused unless ``force`` (and then only the files this export writes are replaced); one
unreadable file never stops the export (it is counted and logged).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.atomic import open_atomic
from twin.core.dataset.dedup import deduplicate
from twin.core.dataset.entries import Entry, entries_from_document, language
from twin.core.dataset.examples import (
    FORMATS,
    Example,
    Voice,
    chat_example,
    entry_examples,
)
from twin.core.dataset.split import split_of, token_stats
from twin.core.memory.chunking import chunk_document
from twin.core.memory.dates import date_from_path
from twin.core.memory.documents import read_document
from twin.core.memory.markdown import parse_markdown, parse_plain_text
from twin.core.memory.sources import FileFilter, walk_sources
from twin.core.types import ParsedDocument
from twin.errors import DocumentError, KnownError

if TYPE_CHECKING:
    from twin.core.conversation.store import ConversationStore
    from twin.settings import Settings

log = logging.getLogger("twin.dataset")

CountTokens = Callable[[list[str]], list[int]]
OUTPUT_FILES = ("stats.json", "README.md", *(f"{fmt}/{split}.jsonl" for fmt in FORMATS for split in ("train", "val")))


class DatasetError(KnownError):
    """The export cannot run as asked (output folder, options)."""


@dataclass(frozen=True)
class TokenCounter:
    """Counts tokens; ``label`` says with what (shown in the statistics)."""

    label: str
    count: CountTokens
    exact: bool = True


def approximate_counter() -> TokenCounter:
    """About 4 characters a token (English BPE; Russian runs ~2-3): a labelled estimate."""
    return TokenCounter("estimate: characters / 4 (no GGUF tokenizer)",
                        lambda texts: [max(1, (len(t) + 3) // 4) if t else 0 for t in texts], exact=False)


def make_token_counter(settings: Settings, tokenizer: str | None = None) -> TokenCounter:
    """The model's tokenizer when a GGUF is given or configured, else a labelled estimate."""
    path = tokenizer or (settings.llm.model_path.strip() if settings.llm.backend == "llama" else "")
    if not path:
        return approximate_counter()
    from twin.core.llm.llama import vocab_token_counter

    try:
        count = vocab_token_counter(str(Path(path).expanduser()))
    except KnownError as e:
        if tokenizer:
            raise
        log.warning("token counts are estimated: %s", e)
        return approximate_counter()
    return TokenCounter(f"{Path(path).name} tokenizer", count)


@dataclass
class ExportOptions:
    """What to export (see ``twin dataset export --help`` for each option)."""

    formats: tuple[str, ...] = FORMATS
    folders: tuple[Path, ...] = ()  # () = the settings' source folders
    since: dt.date | None = None
    until: dt.date | None = None
    chats: str = "starred"  # "starred" | "none"
    val_share: float = 0.1
    max_tokens: int = 2048
    min_chars: int = 200
    max_chars: int = 0  # 0 = no limit (long entries are cut into parts anyway)
    near_duplicates: float = 0.8  # Jaccard threshold; 1 = exact duplicates only
    private_tag: str = "private"
    continuation: bool = True
    voice: Voice = field(default_factory=Voice)
    force: bool = False

    def check(self) -> None:
        bad = [f for f in self.formats if f not in FORMATS]
        problems = [
            (bool(bad) or not self.formats, f"unknown format(s) {', '.join(bad) or '(none)'}: use {', '.join(FORMATS)}"),
            (self.chats not in ("starred", "none"), "--chats must be 'starred' or 'none'"),
            (not 0.0 <= self.val_share < 1.0, "--val-share must be in [0, 1)"),
            (self.max_tokens < 32, "--max-tokens must be at least 32"),
            (self.min_chars < 0 or self.max_chars < 0, "--min-chars and --max-chars must be 0 or more"),
            (not 0.0 < self.near_duplicates <= 1.0, "--near-duplicates must be in (0, 1]"),
            (self.since is not None and self.until is not None and self.since > self.until,
             "--since is after --until"),
            (not self.private_tag.strip(), "--private-tag must not be empty"),
        ]
        for failed, message in problems:
            if failed:
                raise DatasetError(message)


def prepare_output(out: Path, force: bool) -> Path:
    """Create ``out`` or check that it may be written to (see the module invariants)."""
    out = out.expanduser()
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out} exists and is not a folder.")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise DatasetError(f"{out} is not empty: choose a new folder, or add --force to replace "
                               "the dataset files in it.")
        for rel in OUTPUT_FILES:
            (out / rel).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    return out.resolve()


# -- reading -------------------------------------------------------------------------------


@dataclass
class Tally:
    """What happened to the files and entries (the statistics' ``input`` part)."""

    files: int = 0
    unreadable: int = 0
    entries: int = 0
    private: int = 0
    out_of_range: int = 0
    too_short: int = 0
    too_long: int = 0
    exact_duplicates: int = 0
    near_duplicates: int = 0
    kept: int = 0
    chats: int = 0
    errors: list[str] = field(default_factory=list)


def read_entries(sources: Sequence[Path], file_filter: FileFilter, max_bytes: int, private_tag: str,
                 tally: Tally) -> list[Entry]:
    """Every entry of every accepted file under ``sources``, in path order."""
    entries: list[Entry] = []
    for f in sorted(walk_sources(sources, file_filter), key=lambda f: (str(f.source), str(f.path))):
        tally.files += 1
        rel = f.path.relative_to(f.source).as_posix()
        shown = f"{f.source.name}/{rel}" if f.source.name else rel
        try:
            doc = read_document(f.path, max_bytes)
            parsed = parse_plain_text(doc.text) if doc.kind == "text" else parse_markdown(doc.text)
        except DocumentError as e:
            tally.unreadable += 1
            tally.errors.append(f"{shown}: {e}")
            log.warning("dataset: skipping %s: %s", f.path, e)
            continue
        entries += entries_from_document(parsed, doc.text, shown, fallback_date=date_from_path(rel),
                                         private_tag=private_tag, title=f.path.stem)
    return entries


def select_entries(entries: list[Entry], opts: ExportOptions, tally: Tally) -> list[Entry]:
    """Privacy, date, length and duplicate filters, in that order."""
    tally.entries = len(entries)
    kept: list[Entry] = []
    for e in entries:
        if e.private:
            tally.private += 1
        elif (opts.since or opts.until) and (
                e.date is None or (opts.since and e.date < opts.since) or (opts.until and e.date > opts.until)):
            tally.out_of_range += 1
        elif len(e.text) < opts.min_chars:
            tally.too_short += 1
        elif opts.max_chars and len(e.text) > opts.max_chars:
            tally.too_long += 1
        else:
            kept.append(e)
    result = deduplicate([e.text for e in kept], threshold=opts.near_duplicates)
    for dropped, original in result.exact + result.near:
        log.info("dataset: %s duplicates %s", kept[dropped].id, kept[original].id)
    tally.exact_duplicates, tally.near_duplicates = len(result.exact), len(result.near)
    selected = [kept[i] for i in result.keep]
    tally.kept = len(selected)
    return selected


def entry_parts(entry: Entry, count: CountTokens, max_tokens: int) -> list[str]:
    """The entry's text in parts of at most ``max_tokens`` (paragraph, then sentence cuts)."""
    if count([entry.text])[0] <= max_tokens:
        return [entry.text]
    chunks = chunk_document(ParsedDocument(entry.blocks), count, max_tokens)
    # one entry shares one date; the chunker may still split at a sub-heading change: fine
    return [c.text for c in chunks if c.text.strip()]


def chat_examples(store: ConversationStore, voice: Voice, opts: ExportOptions) -> list[Example]:
    out: list[Example] = []
    for question, answer in store.starred_answers():
        when = dt.date.fromtimestamp(answer.created_at)
        if (opts.since and when < opts.since) or (opts.until and when > opts.until):
            continue
        if not question.content.strip() or not answer.content.strip():
            continue
        out.append(chat_example(answer.conversation_id, answer.id, question.content.strip(),
                                answer.content.strip(), when, voice, language(answer.content)))
    return out


# -- the export ----------------------------------------------------------------------------


def export_dataset(settings: Settings, out: Path, opts: ExportOptions, counter: TokenCounter,
                   conversations: ConversationStore | None = None) -> dict[str, Any]:
    """Run the export into ``out``; return the statistics (also written to ``stats.json``).

    Raises:
        DatasetError: bad options, no source folders, or an output folder that may not be used.
    """
    opts.check()
    sources = [Path(f).expanduser().resolve() for f in (opts.folders or settings.memory.sources)]
    if not sources:
        raise DatasetError("No folders to export: add source folders (twin sources add FOLDER) or give --folder.")
    missing = [str(s) for s in sources if not s.is_dir()]
    if missing:
        raise DatasetError("Folder not found: " + ", ".join(missing))
    target = out.expanduser().resolve()
    if any(target == s or s in target.parents for s in sources):
        raise DatasetError(f"The output folder {target} is inside a source folder: it would be indexed; choose another.")
    out = prepare_output(out, opts.force)
    m = settings.memory
    tally = Tally()
    entries = read_entries(sources, FileFilter(m.extensions, m.exclude, m.index_hidden),
                           m.max_file_mb * 1024 * 1024, opts.private_tag, tally)
    selected = select_entries(entries, opts, tally)
    examples: list[Example] = []
    for e in selected:
        examples += entry_examples(e, entry_parts(e, counter.count, opts.max_tokens),
                                   continuation=opts.continuation)
    if opts.chats == "starred" and conversations is not None:
        chats = chat_examples(conversations, opts.voice, opts)
        tally.chats = len(chats)
        examples += chats
    splits = {"train": [], "val": []}  # type: dict[str, list[Example]]
    for ex in examples:
        splits[split_of(ex.group, opts.val_share)].append(ex)
    stats = _write(out, splits, opts, counter, tally)
    log.info("dataset exported to %s: %d train, %d val examples", out, len(splits["train"]), len(splits["val"]))
    return stats


def _write(out: Path, splits: dict[str, list[Example]], opts: ExportOptions, counter: TokenCounter,
           tally: Tally) -> dict[str, Any]:
    per_format: dict[str, Any] = {}
    for fmt in opts.formats:
        (out / fmt).mkdir(exist_ok=True)
        per_format[fmt] = {}
        for split, items in splits.items():
            path = out / fmt / f"{split}.jsonl"
            with open_atomic(path) as f:
                for ex in items:
                    f.write(json.dumps(ex.render(fmt, opts.voice), ensure_ascii=False) + "\n")
            tokens = counter.count([ex.text(fmt, opts.voice) for ex in items]) if items else []
            targets = counter.count([ex.response for ex in items]) if items else []
            per_format[fmt][split] = {"examples": len(items), "tokens": token_stats(tokens),
                                      "target_tokens": token_stats(targets)}
    everything = splits["train"] + splits["val"]
    stats: dict[str, Any] = {
        "created": dt.datetime.now().isoformat(timespec="seconds"),
        "tokenizer": counter.label, "tokens_exact": counter.exact,
        "options": {"formats": list(opts.formats), "since": str(opts.since or ""), "until": str(opts.until or ""),
                    "chats": opts.chats, "val_share": opts.val_share, "max_tokens": opts.max_tokens,
                    "min_chars": opts.min_chars, "max_chars": opts.max_chars,
                    "near_duplicates": opts.near_duplicates, "private_tag": opts.private_tag,
                    "continuation": opts.continuation, "system": opts.voice.system},
        "input": {k: v for k, v in vars(tally).items() if k != "errors"},
        "unreadable_files": tally.errors[:50],
        "examples": {"total": len(everything), "train": len(splits["train"]), "val": len(splits["val"]),
                     "by_kind": dict(sorted(Counter(e.kind for e in everything).items())),
                     "by_language": dict(sorted(Counter(e.language for e in everything).items())),
                     "entries_train": len({e.group for e in splits["train"]}),
                     "entries_val": len({e.group for e in splits["val"]})},
        "formats": per_format,
    }
    (out / "stats.json").write_text(json.dumps(stats, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / "README.md").write_text(dataset_card(stats), encoding="utf-8")
    return stats


def dataset_card(stats: dict[str, Any]) -> str:
    """A short README for the dataset folder: what is in it and how to train on it."""
    ex, inp, o = stats["examples"], stats["input"], stats["options"]
    lines = [
        "# twin fine-tuning dataset",
        "",
        f"Exported {stats['created']} by `twin dataset export`. Private: it holds your diaries; keep it on your machines.",
        "",
        f"- {ex['total']} examples ({ex['train']} train, {ex['val']} validation) from {inp['kept']} entries "
        f"of {inp['files']} files and {inp['chats']} starred chat answers.",
        f"- Kinds: {', '.join(f'{k} {v}' for k, v in ex['by_kind'].items()) or 'none'}; "
        f"languages: {', '.join(f'{k} {v}' for k, v in ex['by_language'].items()) or 'none'}.",
        f"- Left out: {inp['private']} private, {inp['out_of_range']} outside the dates, {inp['too_short']} "
        f"shorter than {o['min_chars']} characters, {inp['too_long']} too long, {inp['exact_duplicates']} exact "
        f"and {inp['near_duplicates']} near duplicates, {inp['unreadable']} unreadable files.",
        f"- Tokens counted with: {stats['tokenizer']}.",
        "",
        "| format | split | examples | tokens min / median / p95 / max | total |",
        "| --- | --- | ---: | --- | ---: |",
    ]
    for fmt, splits in stats["formats"].items():
        for split, s in splits.items():
            t = s["tokens"]
            lines.append(f"| {fmt} | {split} | {s['examples']} | {t['min']} / {t['median']} / {t['p95']} / {t['max']} "
                         f"| {t['total']} |")
    lines += [
        "",
        "Files: `chat/*.jsonl` hold `{\"messages\": [system, user, assistant]}`; `completion/*.jsonl` hold "
        "`{\"prompt\", \"completion\"}` (for a Base model). The split is stable: an entry stays on its side "
        "when you export again.",
        "",
        "Training a LoRA on Qwen3-30B-A3B-Base and loading it in twin: see docs/FINETUNE.md in twin's sources.",
        "",
    ]
    return "\n".join(lines)
