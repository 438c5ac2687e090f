"""What every part of attrlint shares: the attribution schema, the provider catalogue, the
configuration, redaction and dates. Nothing here imports another attrlint package."""
