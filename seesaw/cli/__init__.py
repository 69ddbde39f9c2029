"""The operator's `seesaw` command: Seesaw v2's CLI, talking to the engine over gRPC.

    commands.py     the command tree and the prefix matcher (pure)
    select.py       which objects a show command is about (pure)
    format.py       Seesaw's text layouts and --json (pure)
    execute.py      one command line -> engine calls -> text
    client.py       the engine: connecting, calling, explaining failures
    h2.py           unary gRPC calls over HTTP/2 without grpcio, on the engine's own socket
    hpack.py        HTTP/2 header compression, for h2.py
    grpc_caller.py  calls through grpcio, for the remote ways:
    remote_ecu.py   --ecu: a node's ECU over TLS
    remote_ssh.py   --ssh: a node's engine socket over SSH
    ipvsadm.py      `show ipvs` in ipvsadm's layout
    shell.py        the interactive shell (readline, Tab, ?)
    main.py         argv, one-shot mode, the `seesaw` console script

Only the entry point is handed on; the modules are imported where needed so
that `seesaw -c ...` starts fast.
"""

from seesaw.cli.main import main

__all__ = ["main"]
