"""This suite runs on PostgreSQL and on pooled SQLite, each time beside the neighbour family."""
from tests.conftest import app_on_both_engines

app = app_on_both_engines()
