"""The family's people: parents and children."""
