"""A lab topology's engine grace reaches seesaw-ha through the watchdog.cfg the lab writes (seesaw.lab.configs)."""

from __future__ import annotations

import dataclasses

from seesaw.ha.main import build_parser
from seesaw.lab import configs, topology
from seesaw.watchdog.config import load


def test_the_engine_grace_is_passed_to_ha_and_parsed_by_it(tmp_path):
    topo = dataclasses.replace(topology.pair(), engine_grace=2.5)
    configs.write(topo, topo.lbs[0], tmp_path)
    services = load(tmp_path / "watchdog.cfg").services
    assert services["ha"].args == ("--engine-grace=2.5",)
    assert build_parser().parse_args(list(services["ha"].args)).engine_grace == 2.5
    assert all(not s.args for name, s in services.items() if name != "ha")


def test_without_an_engine_grace_ha_runs_with_its_default(tmp_path):
    topo = topology.pair()
    configs.write(topo, topo.lbs[0], tmp_path)
    assert load(tmp_path / "watchdog.cfg").services["ha"].args == ()
