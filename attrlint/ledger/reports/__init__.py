"""What the ledger tells: budgets and forecasts, and the HTML report."""
