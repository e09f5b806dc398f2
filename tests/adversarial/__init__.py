"""Hostile input: every class of issue 11, one file per area."""
