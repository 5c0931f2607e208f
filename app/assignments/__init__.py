"""Assignments: a chore materialised for one family-local day and one member (or open to claim)."""
