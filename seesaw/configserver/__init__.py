"""`seesaw-config-server`: cluster configs for the nodes' `server` config source.

store.py        <dir>/<cluster>.pb files, checked, as binary Cluster messages
http_server.py  HTTPS: GET /config/<cluster> (application/x-protobuffer)
main.py         the seesaw-config-server command
"""

from seesaw.configserver.http_server import ConfigHTTPServer, server_context
from seesaw.configserver.store import BadConfig, ConfigStore, NotFound

__all__ = ["BadConfig", "ConfigHTTPServer", "ConfigStore", "NotFound", "server_context"]
