"""The healthcheck daemon's own RPC surface: Healthcheck.ListChecks."""

from __future__ import annotations

import grpc

from seesaw.pb import common_pb2
from seesaw.pb import healthcheck_pb2 as hc_pb
from seesaw.pb import healthcheck_pb2_grpc as hc_grpc

from .scheduler import Scheduler

SERVICE_NAME = hc_pb.DESCRIPTOR.services_by_name["Healthcheck"].full_name


class HealthcheckService(hc_grpc.HealthcheckServicer):
    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler

    async def ListChecks(self, request: common_pb2.Empty, context: grpc.aio.ServicerContext) -> hc_pb.CheckStatusList:
        checks = sorted(self.scheduler, key=lambda c: c.id)
        return hc_pb.CheckStatusList(checks=[check.status_pb() for check in checks])
