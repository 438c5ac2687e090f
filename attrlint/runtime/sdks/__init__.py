"""How the runtime records each SDK family: one module per family, each using the SDK's own
extension point (its request method, event hooks, callbacks or transport)."""
