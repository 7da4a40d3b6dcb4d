"""The exceptions every wsfast decoder and encoder raises.

Each error carries the close code (RFC 6455 section 7.4.1) the endpoint should
send when it fails the connection, and ``decoded``: the frames or messages a
decoder completed in the same ``feed`` before the violation, so a strict
endpoint can handle them (answer the ping, echo the message) before closing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["WebSocketError", "ProtocolError", "InvalidDataError", "MessageTooBigError"]


class WebSocketError(Exception):
    """Base class of wsfast's errors; ``close_code`` 1011 (internal error)."""

    close_code: int = 1011

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        #: Frames or messages completed before the error by the same ``feed``.
        self.decoded: list[Any] = []


class ProtocolError(WebSocketError):
    """The peer broke a framing rule of RFC 6455; close with 1002."""

    close_code = 1002


class InvalidDataError(WebSocketError):
    """A text message or close reason is not valid UTF-8; close with 1007."""

    close_code = 1007


class MessageTooBigError(WebSocketError):
    """A frame or message exceeds the configured limit; close with 1009."""

    close_code = 1009


def in_use_error(obj: object) -> RuntimeError:
    """The error for a call that overlaps another call on the same stateful
    object (another thread, or a re-entrant callback): both twins raise it and
    leave the object as it was.  See the README's "Thread safety"."""
    return RuntimeError(
        f"{type(obj).__name__} is already in use by another call (another thread, "
        "or a callback of this one): give each thread its own, or share it under a lock"
    )


def already_initialised_error(obj: object) -> RuntimeError:
    """The error for calling ``__init__`` again on a decoder, a Frame or a Message."""
    return RuntimeError(
        f"{type(obj).__name__} is already initialised: create a new one instead of "
        "calling __init__ again"
    )
