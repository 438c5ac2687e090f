"""`attrlint server`: the Language Server Protocol server, over stdio."""

from __future__ import annotations

import click

from attrlint.cli.common import Fail


@click.command()
def server() -> None:
    """Run the editor server (Language Server Protocol) on stdin/stdout.

    Needs pygls: pip install 'attrlint[server]'."""
    try:
        from attrlint.server.lsp import serve
    except ModuleNotFoundError as exc:
        if exc.name in ("pygls", "lsprotocol"):
            raise Fail("attrlint server needs pygls: pip install 'attrlint[server]'") from None
        raise
    serve()
