"""Taking config from the chosen source into the engine: reloads, periodic
checks, `config source`, and what a reload would change.

Rules kept here:

* The source is `disk`, `server` or `peer` (`config source`). The choice is
  kept in <run-dir>/engine/config_source, so it survives an engine restart,
  and nothing else changes it: unlike Seesaw v2, an HA transition does not
  reset it. At first start it is [engine] config_source of seesaw.cfg.
* A start always loads cluster.pb from disk first (for a remote source it
  holds the last config taken), so a restart's cold load never waits for
  the network; the remote source is checked right after.
* A remote source is checked every [engine] config_check_interval_sec, on
  `config reload`, when the source is set, and (for `peer`) when the master
  announces a new config. The `disk` source is read on `config reload` and
  when it is chosen, not every minute as Seesaw v2 did: an operator editing
  cluster.pb decides when the edit applies.
* A config from a server or the peer that is taken is written to cluster.pb
  atomically, the previous version archived (`config_archive`).
* A source that cannot be reached, or offers a config that is refused,
  changes nothing that runs: each failure is one log line naming the server
  (or peer) and the reason, and `config status` shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from seesaw.config.errors import ConfigError
from seesaw.config.model import HAState
from seesaw.config.seesaw_cfg import ParsedSettings
from seesaw.engine import config_archive, fetcher
from seesaw.engine.config_source import SOURCES, BinaryConfigParser, DiskConfigSource, LoadedConfig
from seesaw.engine.core import ConfigRefused, Engine

log = logging.getLogger(__name__)

SOURCE_FILENAME = "config_source"
DEFAULT_SSL_CA = Path("ssl") / "ca.crt"


class SourceUnavailable(Exception):
    """No usable config came from the source; `problems` says why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class PeerConfig:
    """What the master sent: a binary Cluster, and where it came from."""

    body: bytes
    origin: str


PeerFetch = Callable[[], Awaitable[PeerConfig]]


class ConfigLoader:
    def __init__(
        self,
        engine: Engine,
        disk: DiskConfigSource,
        changed: Callable[[], None],
        *,
        state_path: Path | None = None,
        resolver: fetcher.Resolver = fetcher.resolve,
    ) -> None:
        self.engine = engine
        self.disk = disk
        self.changed = changed
        self.state_path = state_path
        self.resolver = resolver
        self.peer_fetch: PeerFetch | None = None  # set by the sync client
        self.running: LoadedConfig | None = None  # the config last taken (what the peer is sent)
        self._lock = asyncio.Lock()
        self._check_now = asyncio.Event()

    @property
    def source(self) -> str:
        return self.engine.config_info.source

    # ------------------------------------------------------------------ source

    def restore_source(self) -> None:
        """The source kept from the last run, else seesaw.cfg's [engine] config_source."""
        source = self.engine.settings.config_source
        if self.state_path is not None:
            try:
                kept = self.state_path.read_text().strip()
            except FileNotFoundError:
                kept = ""
            except OSError as err:
                log.error("cannot read %s: %s; using config source %s", self.state_path, err.strerror, source)
                kept = ""
            if kept in SOURCES:
                source = kept
            elif kept:
                log.error("%s names no config source (%r); using %s", self.state_path, kept, source)
        self.engine.config_info.source = source
        if source != "disk":
            log.info("config source is %s", source)

    def set_source(self, source: str) -> str:
        """Switch to `source` (one of SOURCES) and check it at once; returns the previous one."""
        previous = self.source
        self.engine.config_info.source = source
        if self.state_path is not None:
            try:
                self.state_path.parent.mkdir(parents=True, exist_ok=True)
                self.state_path.write_text(source + "\n")
            except OSError as err:
                log.error("cannot save the config source to %s: %s; it holds until a restart", self.state_path, err)
        if source != previous:
            log.info("config source set to %s (was %s)", source, previous)
        self.request_check()
        self.changed()
        return previous

    def request_check(self) -> None:
        """Look at the source now (the periodic loop does it)."""
        self._check_now.set()

    # ------------------------------------------------------------------ checks

    def reload_disk(self, *, force: bool = False) -> str:
        """Take seesaw.cfg + cluster.pb from the config directory; raise ConfigError/ConfigRefused
        (logged, kept in config status) and keep the running config if they are bad."""
        path = str(self.disk.cluster_path)
        self._checked()
        try:
            loaded = self.disk.read()
        except ConfigError as err:
            self.engine.config_info.reloads_total += 1
            self.engine.record_config_error(str(err), path)
            log.error("config refused, the running config stays in force:\n%s", err)
            self.changed()
            raise
        return self._take(loaded, force=force, save=False)

    async def check(self, *, force: bool = False) -> str:
        """Take the config the current source offers; raise ConfigError, ConfigRefused or
        SourceUnavailable (each logged and in config status) and keep the running config."""
        async with self._lock:
            source = self.source
            if source == "disk":
                return self.reload_disk(force=force)
            self._checked()
            try:
                loaded = await self._fetch(source, check_age=True)
            except (ConfigError, SourceUnavailable) as err:
                self.engine.config_info.reloads_total += 1
                self.engine.record_config_error(str(err), str(self.disk.cluster_path))
                self.changed()
                raise
            return self._take(loaded, force=force, save=True)

    async def candidate(self) -> LoadedConfig:
        """The config the current source offers now, not applied; ConfigError/SourceUnavailable if none."""
        if self.source == "disk":
            return self.disk.read()
        return await self._fetch(self.source, check_age=False)

    async def run(self, stop: asyncio.Event) -> None:
        """Check a remote source periodically and on request, until `stop`."""
        if self.source != "disk":
            self._check_now.set()  # right after the cold load from disk
        while not stop.is_set():
            interval = float(self.engine.settings.config_check_interval)
            waiter = asyncio.ensure_future(self._check_now.wait())
            stopper = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait([waiter, stopper], timeout=interval, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
                stopper.cancel()
            if stop.is_set():
                return
            requested = self._check_now.is_set()
            self._check_now.clear()
            if self.source == "disk" and not requested:
                continue  # cluster.pb edits wait for `config reload` (Seesaw re-read the file every minute)
            with contextlib.suppress(ConfigError, ConfigRefused, SourceUnavailable):  # logged, in config status
                await self.check()

    # ---------------------------------------------------------------- sources

    async def _fetch(self, source: str, *, check_age: bool) -> LoadedConfig:
        parsed = self.disk.read_settings()  # ConfigError if seesaw.cfg is bad
        if source == "server":
            return await self._from_server(parsed, check_age)
        return await self._from_peer(parsed)

    async def _from_server(self, parsed: ParsedSettings, check_age: bool) -> LoadedConfig:
        settings = parsed.settings
        running = self.engine.target
        not_older = running.metadata.last_updated if check_age and running is not None else None
        ca = Path(settings.config_server_ca) if settings.config_server_ca else DEFAULT_SSL_CA
        config_fetcher = fetcher.ConfigFetcher(
            settings.config_servers,
            settings.cluster_name,
            ca if ca.is_absolute() else self.disk.config_dir / ca,
            port=settings.config_server_port,
            timeout=float(settings.config_server_timeout),
            resolver=self.resolver,
        )
        try:
            fetched = await asyncio.to_thread(config_fetcher.fetch, BinaryConfigParser(parsed, not_older))
        except fetcher.FetchError as err:
            for failure in err.failures:
                log.error("%s", failure)
            log.error("no config server gave a usable config; the running config stays in force")
            raise SourceUnavailable([str(f) for f in err.failures]) from None
        for failure in fetched.failures:
            log.warning("%s", failure)
        return dataclasses.replace(fetched.value, origin=fetched.origin)

    async def _from_peer(self, parsed: ParsedSettings) -> LoadedConfig:
        if self.engine.ha.state == HAState.LEADER:
            problem = (
                "config source is peer, but this node is the master: it has no master to take config from; "
                "it keeps its running config (set `config source disk` or `server` on the master)"
            )
            log.error("%s", problem)
            raise SourceUnavailable([problem])
        if self.peer_fetch is None:
            problem = (
                "config source is peer, but no peer is configured: set peer_ipv4 (or peer_ipv6) in [cluster] "
                "of seesaw.cfg"
            )
            log.error("%s", problem)
            raise SourceUnavailable([problem])
        try:
            peer = await self.peer_fetch()
        except SourceUnavailable as err:
            for problem in err.problems:
                log.error("%s", problem)
            raise
        try:
            return BinaryConfigParser(parsed)(peer.body, peer.origin)
        except (fetcher.Rejected, ValueError) as err:
            problem = f"config from {peer.origin} refused: {err}"
            log.error("%s", problem)
            raise SourceUnavailable([problem]) from None

    # ------------------------------------------------------------------ taking

    def _checked(self) -> None:
        self.engine.config_info.last_check_unix_ms = int(self.engine.clock.wall() * 1000)

    def _take(self, loaded: LoadedConfig, *, force: bool, save: bool) -> str:
        path = str(self.disk.cluster_path)
        try:
            message = self.engine.load_config(loaded.cluster, path, loaded.settings, force=force)
        except ConfigRefused as err:
            where = f" from {loaded.origin}" if loaded.origin else ""
            log.error("config%s refused, the running config stays in force:\n%s", where, "\n".join(err.problems))
            self.changed()
            raise
        self.running = loaded
        info = self.engine.config_info
        info.file_warnings = loaded.warnings
        info.origin = loaded.origin or path
        for warning in loaded.warnings:
            log.warning("config: %s", warning)
        if save and loaded.proto is not None:
            self._save(loaded, metadata_only=message == "Only metadata changed")
        if message != "No config changes found" or save is False:
            log.info("%s (from %s)", message, info.origin)
        self.changed()
        return message

    def _save(self, loaded: LoadedConfig, *, metadata_only: bool) -> None:
        assert loaded.proto is not None
        try:
            written = config_archive.save(
                self.disk.cluster_path,
                loaded.proto,
                loaded.origin,
                keep=self.engine.settings.config_archive_keep,
                now=self.engine.clock.wall(),
                archive=not metadata_only,
            )
        except OSError as err:
            log.error(
                "cannot write the config from %s to %s: %s; it runs, but a restart would load the older file",
                loaded.origin,
                self.disk.cluster_path,
                err,
            )
            return
        if written:
            log.info("saved the config from %s to %s", loaded.origin, self.disk.cluster_path)
