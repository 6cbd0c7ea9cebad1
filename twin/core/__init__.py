"""Pure-Python core: parsing, embedding, storage, retrieval, LLM engines. Never imports Qt."""
