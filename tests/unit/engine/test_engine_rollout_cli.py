"""`config diff` and `config reload force` from the real CLI code to a real engine on its Unix socket."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sync_fixtures import BACKUP_IP, MASTER_IP, cluster_text, make_node

from seesaw.cli.client import EngineClient
from seesaw.cli.errors import CliError
from seesaw.cli.execute import Executor
from seesaw.common import paths, rpc
from seesaw.common.clock import SystemClock
from seesaw.engine import service
from seesaw.pb import engine_pb2_grpc


def test_diff_shows_the_refusal_and_reload_force_takes_it(tmp_path: Path) -> None:
    runtime = make_node(tmp_path, "node", MASTER_IP, BACKUP_IP, cluster_text(1, 2, 3, 4))
    run_dir = tmp_path / "node" / "run"
    cluster_pb = tmp_path / "node" / "etc" / "cluster.pb"

    def cli(line: str) -> str:
        executor = Executor(lambda: EngineClient(paths.socket_path(run_dir, "engine")), SystemClock(), tmp_path)
        try:
            return executor.run(line).output
        except CliError as err:
            return f"error: {err}"
        finally:
            executor.close()

    async def scenario() -> None:
        server = rpc.UnixServer(run_dir, "engine")
        server.add(engine_pb2_grpc.add_EngineServicer_to_server, service.EngineService(runtime), service.SERVICE_NAME)
        await server.start()
        try:
            assert "No changes: a reload would change nothing." in await asyncio.to_thread(cli, "config diff")
            cluster_pb.write_text(cluster_text(1, 5))
            diff = await asyncio.to_thread(cli, "config diff")
            for line in ("+ web5@au-syd", "- web2@au-syd", "- web3@au-syd", "- web4@au-syd", "deletes 3 of the 4"):
                assert line in diff, diff
            refused = await asyncio.to_thread(cli, "config reload")
            assert refused.startswith("error: config refused, the running config stays in force:")
            assert len(runtime.engine.machines) == 4
            assert (await asyncio.to_thread(cli, "config reload later")).startswith("error: Incorrect arguments")
            taken = await asyncio.to_thread(cli, "config reload force")
            # Deletions go first; the creation waits for the next churn-limited step, as the diff said.
            assert "It would take 2 steps of at most 10 vserver creations or deletions." in diff
            assert taken == (
                "Configuration reload requested.\nConfig loaded: 1 vservers (0 created, 3 deleted); "
                "1 creations and 0 deletions deferred by the churn limit of 10 per step\n"
            )
            assert runtime.engine.config_step()
            assert set(runtime.engine.machines) == {"web1@au-syd", "web5@au-syd"}
        finally:
            await server.stop(0)

    asyncio.run(scenario())
