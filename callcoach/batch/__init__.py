"""Batch: scoring files and folders into a report folder (inputs, workers, engines, the store, metadata)."""
