"""The shared gRPC plumbing: Unix socket servers with health, over real sockets."""

import asyncio

from seesaw.common import paths, rpc


def test_unix_server_health_follows_readiness(tmp_path):
    async def scenario():
        server = rpc.UnixServer(tmp_path, "ncc")
        await server.start()
        sock = paths.socket_path(tmp_path, "ncc")
        try:
            assert sock.exists()
            assert not await rpc.check_health(sock), "must not be SERVING before the daemon says so"
            await server.set_serving(True)
            assert await rpc.check_health(sock)
            assert await rpc.check_health(sock, service="ncc")
        finally:
            await server.stop(0)
        assert not sock.exists()
        assert not await rpc.check_health(sock)

    asyncio.run(scenario())


def test_stale_socket_file_is_replaced(tmp_path):
    sock = paths.socket_path(tmp_path, "engine")
    sock.parent.mkdir(parents=True)
    sock.write_text("stale")

    async def scenario():
        server = rpc.UnixServer(tmp_path, "engine")
        await server.start()
        await server.set_serving(True)
        try:
            assert await rpc.check_health(sock)
        finally:
            await server.stop(0)

    asyncio.run(scenario())


def test_socket_dir_permissions(tmp_path):
    async def scenario():
        rpc.UnixServer(tmp_path, "engine")

    asyncio.run(scenario())
    mode = paths.socket_path(tmp_path, "engine").parent.stat().st_mode & 0o777
    assert mode == 0o770
