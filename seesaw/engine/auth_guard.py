"""Enforce `seesaw.engine.auth` on every call the engine serves, and audit writes.

`AuthGuard.wrap(servicer, service)` returns a stand-in servicer whose every
method first learns the caller (the proxy's `CallerRegistry`, by the call's
peer; then the ECU's delegation metadata, if a trusted caller sent it),
asks `auth.decide`, and refuses with PERMISSION_DENIED and the reason, or
runs the real method with the caller in `current_caller()`. Every write,
allowed or not, leaves one audit line: who, what, and the result.
"""

from __future__ import annotations

import contextvars
import inspect
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from seesaw.common import peercred
from seesaw.engine import auth
from seesaw.engine.audit_log import AuditLog
from seesaw.engine.auth import Caller, Decision, Grants, Operation, RoleGroups
from seesaw.engine.auth_proxy import CallerRegistry
from seesaw.engine.core import Engine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Admitted:
    caller: Caller
    op: Operation
    decision: Decision


_CURRENT: contextvars.ContextVar[Admitted | None] = contextvars.ContextVar("seesaw_engine_caller", default=None)


def current_caller() -> Admitted | None:
    """Who is calling, and with which role (set by the guard); None outside a guarded call."""
    return _CURRENT.get()


class EnginePolicy:
    """The role groups, and the grants of the engine's current config (rebuilt when the config changes)."""

    def __init__(self, engine: Engine, role_groups: RoleGroups) -> None:
        self.engine = engine
        self.role_groups = role_groups
        self._cluster: object = None
        self._grants = Grants()

    def grants(self) -> Grants:
        if self.engine.target is not self._cluster:
            self._cluster = self.engine.target
            self._grants = Grants.from_cluster(self.engine.target)
        return self._grants

    def override_scope(self, target: int, name: str) -> frozenset[str]:
        return auth.override_scope(self.engine.target, target, name)


class AuthGuard:
    def __init__(
        self, registry: CallerRegistry, policy: EnginePolicy, audit: AuditLog, front: Path | None = None
    ) -> None:
        self.registry = registry
        self.policy = policy
        self.audit = audit
        self.front = front

    def wrap(self, servicer: Any, service: str) -> Any:
        """A servicer for `service` (e.g. "seesaw.engine.Engine") that guards every method of `servicer`."""
        return _Guarded(self, servicer, service)

    # -- one call -----------------------------------------------------------------------------------------------

    async def admit(self, method: str, request: Any, context: grpc.aio.ServicerContext) -> Admitted:
        """The caller and what it asks, if it may; otherwise abort the call with the reason."""
        op = auth.classify(method, request)
        caller = await self._identify(context, op)
        decision = auth.decide(caller, op, self.policy.role_groups, self.policy.grants(), self.policy.override_scope)
        if not decision.allowed:
            if auth.is_write(op):
                self.audit.write(auth.audit_line(caller, op, f"denied: {decision.reason}"))
            else:
                log.info("refused %s to %s: %s", op.action, caller.describe(), decision.reason)
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, f"Permission denied: {decision.reason}")
        return Admitted(caller, op, decision)

    async def _identify(self, context: grpc.aio.ServicerContext, op: Operation) -> Caller:
        caller = self.registry.get(context.peer())
        if caller is None:
            if op.kind is auth.Kind.OPEN:
                return Caller(user="unidentified")
            where = f" through {self.front}" if self.front else ""
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED, f"Permission denied: connection not identified; connect{where}"
            )
            raise AssertionError("unreachable")  # abort raises
        metadata = {key: value for key, value in context.invocation_metadata() or () if isinstance(value, str)}
        user = metadata.get(peercred.DELEGATE_USER)
        if user is None:
            return caller
        if not caller.trusted:
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"Permission denied: {caller.user} may not act for other users (only root or the engine's uid may)",
            )
        groups = frozenset(g.strip() for g in metadata.get(peercred.DELEGATE_GROUPS, "").split(",") if g.strip())
        via = metadata.get(peercred.DELEGATE_VIA, "")
        return Caller(
            user=user, groups=groups, via=f"{via}; delegate {caller.describe()}" if via else caller.describe()
        )

    def finished(self, admitted: Admitted, reply: Any) -> None:
        caller, op = admitted.caller, admitted.op
        if auth.is_write(op):
            message = getattr(reply, "message", "") or ""
            if not message and hasattr(reply, "source"):
                message = f"source {reply.source} (was {reply.previous})"
            self.audit.write(auth.audit_line(caller, op, f"ok{': ' + message if message else ''}"))

    def failed(self, admitted: Admitted, context: grpc.aio.ServicerContext, err: BaseException) -> None:
        caller, op = admitted.caller, admitted.op
        if not auth.is_write(op):
            return
        code = context.code()
        if isinstance(err, grpc.aio.AbortError) or code not in (None, grpc.StatusCode.OK):
            name = code.name if isinstance(code, grpc.StatusCode) else "ABORTED"
            result = f"failed: {name} {context.details() or ''}".rstrip()
        else:
            result = f"failed: {type(err).__name__}: {err}"
        self.audit.write(auth.audit_line(caller, op, " ".join(result.split())))


class _Guarded:
    """Stands in for a servicer: every method it is asked for is the real one behind the guard."""

    def __init__(self, guard: AuthGuard, servicer: Any, service: str) -> None:
        self._guard = guard
        self._servicer = servicer
        self._service = service

    def __getattr__(self, name: str) -> Any:
        inner = getattr(self._servicer, name)
        if name.startswith("_") or not callable(inner):
            return inner
        method = f"/{self._service}/{name}"
        guard = self._guard
        if inspect.isasyncgenfunction(inner):

            async def streaming(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                token = _CURRENT.set(await guard.admit(method, _unary(request), context))
                try:
                    async for item in inner(request, context):
                        yield item
                finally:
                    _CURRENT.reset(token)

            return streaming

        async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
            admitted = await guard.admit(method, _unary(request), context)
            token = _CURRENT.set(admitted)
            try:
                reply = inner(request, context)
                if inspect.isawaitable(reply):
                    reply = await reply
            except BaseException as err:
                guard.failed(admitted, context, err)
                raise
            finally:
                _CURRENT.reset(token)
            guard.finished(admitted, reply)
            return reply

        return call


def _unary(request: Any) -> Any:
    """The request message, or None for a request stream (classified by method name alone)."""
    return None if hasattr(request, "__aiter__") else request
