"""Drop-in acceleration of existing WebSocket stacks (the registry lives here)."""
