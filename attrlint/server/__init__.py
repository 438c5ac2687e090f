"""attrlint's editor server (Language Server Protocol, on pygls): a front end, like the CLI."""
