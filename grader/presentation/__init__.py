"""Turning result records into pages and spreadsheets for TAs and students."""
