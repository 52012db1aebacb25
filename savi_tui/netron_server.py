"""Serve a model.onnx with netron on localhost, for the export modal.

netron.app in a browser cannot reach a file on a remote server; netron's own server on this
machine can, through an ``ssh -L`` tunnel. It binds localhost only and runs in a daemon thread
of netron's, stopped with ``stop()`` (or with the process).
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
from pathlib import Path

HOST = "localhost"  # never another interface: anyone who reaches the port sees the model


class NetronServer:
    """One model served by netron; ``start()`` returns its URL, ``stop()`` ends it (twice is fine)."""

    def __init__(self, path: str | os.PathLike, port: int | None = None) -> None:
        self.path, self.port = Path(path), port
        self.address: tuple[str, int] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.address[1]}" if self.address else ""

    def start(self) -> str:
        import netron

        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such file; export the model first")
        root = logging.getLogger()
        if not root.hasHandlers():  # else netron's basicConfig prints "Serving ..." over the app's screen
            root.addHandler(logging.NullHandler())
        self.address = tuple(netron.start(str(self.path), address=(HOST, self.port), browse=False))
        return self.url

    def stop(self) -> None:
        if self.address is not None:
            import netron

            netron.stop(self.address)
            self.address = None

    def is_serving(self) -> bool:
        if self.address is None:
            return False
        import netron

        return bool(netron.status(self.address))

    def ssh_hint(self) -> str:
        """What to run on one's own computer to open the served model there."""
        port = self.address[1] if self.address else self.port
        return f"ssh -L {port}:{HOST}:{port} {getpass.getuser()}@{socket.gethostname()}"
