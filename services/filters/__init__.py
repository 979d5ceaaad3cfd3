"""The filters service: Kowalski-compatible filter documents, validation, evaluation of the
live stream (Evaluate) and test-on-archive; the evaluator itself is the engine package."""
