"""Fine-tuning datasets from the user's diaries and starred chat answers (pure logic).

``entries`` turns a parsed file into diary entries (one per dated section), ``examples``
turns entries into training examples and renders them as chat messages or plain
prompt/completion pairs, ``dedup`` drops exact and near duplicates, ``split`` assigns
train/validation by a stable hash and computes the statistics. The I/O (walking folders,
reading files, the tokenizer, writing JSONL) is ``twin.app.dataset_export``.
"""
