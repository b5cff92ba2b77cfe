"""Judgement layer: compares what student code returned with the reference."""
