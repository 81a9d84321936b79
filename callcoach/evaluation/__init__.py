"""Evaluation harness, imported only by callcoach eval: accuracy against truth, metrics, the usual recipe, degradations."""
