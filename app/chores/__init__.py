"""Chores: the family's library of jobs worth points."""
