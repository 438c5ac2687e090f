"""Key governance: the key registry joined with the code (`governance`) and with the ledger (`audit`)."""
