import os
import subprocess
import uuid

import pytest


def _in_private_netns() -> bool:
    # The harness (scripts/run-tests) runs integration tests under unshare + seesaw.lab.isolate,
    # which leaves only `lo` in the namespace. Never build namespaces next to a host's real links.
    links = os.listdir("/sys/class/net")
    return os.geteuid() == 0 and links == ["lo"]


@pytest.fixture
def netns():
    if not _in_private_netns():
        pytest.skip("needs root inside a private network namespace (run via scripts/run-tests integration)")
    name = f"node-{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
    yield name
    subprocess.run(["ip", "netns", "del", name], check=False)
