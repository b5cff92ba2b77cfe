"""Execution layer: runs student code in separate processes and returns raw data."""
