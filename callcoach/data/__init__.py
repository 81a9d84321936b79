"""Packaged data: the default scorecard rubric (rubric.yaml)."""
