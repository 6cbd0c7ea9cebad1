"""The memory engine: documents → chunks → embeddings → LanceDB → hybrid retrieval."""
