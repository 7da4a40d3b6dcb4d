"""Drop-in acceleration of existing WebSocket stacks, one module per stack."""
