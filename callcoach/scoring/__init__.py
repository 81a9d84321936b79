"""Scoring: the YAML rubric and the scorecard that runs its checks over turns and events."""
