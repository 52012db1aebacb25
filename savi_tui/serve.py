"""``savi-tui serve``: the same app in a web browser (textual-serve), bound to this machine only.

Each browser tab runs its own ``savi-tui`` process; all of them read the same experiments
folder, so every tab sees and follows the same runs. A tab that closes under its own training
hands the run over to a background process, as a terminal that goes away does.
"""

from __future__ import annotations

import getpass
import shlex
import socket
import sys
from pathlib import Path

from savi_tui.core.errors import SaviError

HOST = "localhost"  # never another interface: the app has no login of its own


def serve(args, experiments_root: Path, datasets_root: Path) -> int:
    from textual_serve.server import Server

    port = args.port
    check_port_free(port)
    command = shlex.join(
        [
            sys.executable,
            "-m",
            "savi_tui",
            "-ep",
            str(experiments_root.resolve()),
            "--datasets-root",
            str(datasets_root.resolve()),
            "--on-hangup",
            args.on_hangup,
        ]
    )
    print(ssh_hint(port), flush=True)
    Server(command, host=HOST, port=port, title="savi-tui").serve()
    return 0


def ssh_hint(port: int) -> str:
    return (
        f"savi-tui in your browser: http://{HOST}:{port}\n"
        f"On a remote machine, forward the port from your own computer first:\n"
        f"  ssh -L {port}:{HOST}:{port} {getpass.getuser()}@{socket.gethostname()}\n"
        f"then open http://{HOST}:{port} there. Ctrl+C here stops serving."
    )


class PortInUse(SaviError):
    """The port is taken by another program."""


def check_port_free(port: int) -> None:
    if not 1 <= port <= 65535:
        raise PortInUse(f"port must be a whole number from 1 to 65535, got {port}")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise PortInUse(
                f"port {port} on {HOST} cannot be used ({error.strerror}); choose another: --port N"
            ) from None
