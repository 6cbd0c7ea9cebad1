"""Settings of the memory: ``[memory]`` (the folders, what is indexed, how the window runs the
engine), ``[embedding]`` and ``[search]`` sections.

Declared like :mod:`twin.llm_settings` (a dataclass per section, each field with a default and
a ``doc``; ``env`` names an environment override) and wired into ``twin.settings.Settings``,
whose validation checks their values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from twin.llm_settings import described

__all__ = ["MemorySettings", "EmbeddingSettings", "SearchSettings"]


@dataclass
class MemorySettings:
    sources: list[str] = field(
        default_factory=list,
        metadata=described("Folders of diaries and notes to index, recursively."),
    )
    exclude: list[str] = field(
        default_factory=list,
        metadata=described(
            "Extra glob patterns to skip, matched against the path relative to its source "
            "folder and against the file name (e.g. 'private/**', '*.draft.md')."
        ),
    )
    extensions: list[str] = field(
        default_factory=lambda: [".md", ".markdown", ".txt", ".pdf", ".docx", ".html", ".htm"],
        metadata=described("File types to index (lower-case, with the dot)."),
    )
    index_hidden: bool = field(
        default=False,
        metadata=described("Index hidden files and folders (.git, .obsidian, .trash are never indexed)."),
    )
    max_file_mb: int = field(
        default=20,
        metadata=described("Read at most this many MB of one file; the rest is skipped with a warning."),
    )
    debounce_ms: int = field(
        default=400,
        metadata=described("Wait this long after a file's last change before re-indexing it."),
    )
    offer_chat_memories: bool = field(
        default=True,
        metadata=described(
            "When you state a fact about yourself in chat ('my sister's name is Anna'), offer to "
            "remember it as a note in twin's memories folder (always indexed; edit or delete the "
            "notes there)."
        ),
    )
    runner: str = field(
        default="process",
        metadata=described(
            "Where the window runs the memory engine: 'process' (a child process at a lower CPU "
            "priority, so indexing never stalls the window) or 'thread' (inside the window's process)."
        ),
    )


@dataclass
class EmbeddingSettings:
    model: str = field(
        default="intfloat/multilingual-e5-base",
        metadata=described(
            "sentence-transformers model: a name or a local folder. Multilingual (Russian and "
            "English) by default. Changing it re-embeds the whole index.",
            env="TWIN_EMBEDDING_MODEL",
        ),
    )
    device: str = field(
        default="auto",
        metadata=described("'auto' (GPU when available), 'cpu', 'cuda', 'cuda:1', 'mps'.", env="TWIN_EMBEDDING_DEVICE"),
    )
    batch_size: int = field(default=32, metadata=described("Texts per embedding batch."))
    chunk_tokens: int = field(
        default=0,
        metadata=described("Target chunk size in model tokens; 0 = the model's own limit (capped at 384)."),
    )


@dataclass
class SearchSettings:
    k: int = field(default=8, metadata=described("Memories returned per search."))
    per_file: int = field(
        default=2, metadata=described("At most this many hits from one file (diversity); 0 = no limit.")
    )
    vector_index_min_rows: int = field(
        default=20000,
        metadata=described("Build an approximate vector index once the table has this many chunks."),
    )
    rerank_model: str = field(
        default="cross-encoder/mmarco-mMiniLMv2-L12-H384-v1",
        metadata=described("Cross-encoder that re-orders the best hits (multilingual): a sentence-transformers "
                      "name already in the local model cache, or a folder. Never downloaded by search; "
                      "when it is not there, reranking is off (one log line). Empty = off."),
    )
    rerank_depth: int = field(default=20, metadata=described("How many of the best hits the cross-encoder re-orders."))
    llm_expand: str = field(
        default="auto",
        metadata=described("Let the loaded chat model translate each question into the other language (Russian <-> "
                      "English) so that notes written in either are found: both wordings go to the keyword "
                      "and the meaning search. 'on', 'off', or 'auto' (on when the model runs on a GPU). "
                      "It costs a short generation per new question (a fraction of a second on a GPU, "
                      "seconds on a CPU); a base model (no chat template) also re-reads the whole "
                      "conversation for the answer."),
    )
    llm_rerank: bool = field(
        default=False,
        metadata=described("Let the loaded chat model re-order the best memories in one extra prompt before it "
                      "answers (slower: it reads every candidate, and a local model then re-reads the "
                      "conversation)."),
    )
    llm_rerank_depth: int = field(default=10, metadata=described("How many of the best hits the chat model re-orders."))
    llm_split: bool = field(
        default=False,
        metadata=described("Let the loaded chat model split a compound question ('where did I live in 2019 and who "
                      "did I work with?') into its parts; each part is searched too and the memories merged "
                      "(one short generation, only for a question that looks compound)."),
    )
    llm_dates: bool = field(
        default=False,
        metadata=described("Let the loaded chat model resolve a period named through an event of your life ('the "
                      "summer after I moved') against your dated profile facts and remembered statements, "
                      "for the search and the dated facts in the prompt (one short generation, only for "
                      "such a question)."),
    )
    rewrite_followups: bool = field(
        default=False,
        metadata=described("Let an instruct model rewrite a follow-up ('and then?') into a standalone question for "
                      "the memory search (a short extra generation per follow-up)."),
    )
