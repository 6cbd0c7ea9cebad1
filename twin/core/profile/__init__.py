"""The self-profile: structured facts about the user, each cited to the diary entries it came from.

``entries`` turns documents into dated entries and batches, ``extract`` asks a model for facts
(prompts, output grammar, lenient parsing), ``merge`` reduces the per-batch facts into the
profile and overlays the user's review, ``storage`` is the only module that touches the
profile's files, ``job`` runs the incremental, resumable map step, ``render`` writes the
readable profile and the persona text.
"""
