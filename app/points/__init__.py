"""Points: the append-only ledger and the balances cached from it."""
