"""``twin eval``: question sets made from the user's own notes, and the metrics of a run (pure)."""
