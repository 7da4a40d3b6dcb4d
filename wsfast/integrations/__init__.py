"""Drop-in acceleration of existing WebSocket stacks (the registry behind ``wsfast.patch``)."""
