"""TakeoverOrder: HA's own takeover against the engine's word on the LB interface; which steps remake HA's
takeover kit (pure)."""

from __future__ import annotations

from ncc_build import dest, lb, service, vip

from seesaw.ncc.model import Forwarding
from seesaw.ncc.steps import Step
from seesaw.ncc.takeover import TakeoverOrder, remakes_kit


def test_a_takeover_older_than_the_engines_word_is_refused() -> None:
    order: TakeoverOrder[str] = TakeoverOrder()
    assert order.carries(up=False, since_ms=1000)
    assert order.refuses(900) == "the engine has spoken for a later HA state"
    assert order.refuses(1000) == "" and order.takeover_since == 1000


def test_an_engines_down_older_than_the_takeover_is_not_carried_out_a_newer_one_is() -> None:
    order: TakeoverOrder[str] = TakeoverOrder()
    assert order.refuses(2000) == ""
    assert not order.carries(up=False, since_ms=1900)
    assert order.carries(up=True, since_ms=1900)  # an "up" always is
    assert order.carries(up=False, since_ms=2100)
    assert order.carries(up=False, since_ms=0)  # an engine that does not say: as before takeovers existed


def test_a_takeover_is_pending_until_the_engines_word_and_audits_wait_meanwhile() -> None:
    order: TakeoverOrder[str] = TakeoverOrder(settle=5.0)
    assert not order.settling(100.0) and order.settled() is None
    order.took_over("raise eth1", 100.0)
    assert order.overtaken == 1 and order.pending == "raise eth1"
    assert order.settling(104.9) and not order.settling(105.0)
    assert order.settled() == "raise eth1" and order.settled() is None


def test_the_steps_that_remake_a_takeover_kit():
    svc = service()
    lb_step, vip_step = Step.update("lb", lb(), lb(up=True)), Step.add("web", vip())
    added, flipped = (
        Step.add("web", dest(svc, "10.0.0.1")),
        Step.update("web", dest(svc, "10.0.0.1"), dest(svc, "10.0.0.1", weight=2)),
    )
    assert remakes_kit([lb_step]) and remakes_kit([vip_step]) and remakes_kit([flipped, added])
    assert not remakes_kit([flipped]) and not remakes_kit([Step.add("web", svc)]) and not remakes_kit([])
    nat = dest(svc, "10.0.0.1", forwarding=Forwarding.MASQ)
    to_dsr = Step.update("web", nat, dest(svc, "10.0.0.1", forwarding=Forwarding.ROUTE))
    assert remakes_kit([to_dsr])  # NAT to DSR: one more neighbour for the kit
