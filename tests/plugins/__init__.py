"""Pytest plugins the suite registers in tests/conftest.py."""
