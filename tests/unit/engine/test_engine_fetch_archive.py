"""cluster.pb written from a remote source: atomic, archived, bounded, and not
rewritten when it already holds the config."""

from __future__ import annotations

from pathlib import Path

import pytest
from sync_fixtures import cluster_text

from seesaw.config.cluster import read_cluster_file, read_cluster_text
from seesaw.engine import config_archive
from seesaw.pb import config_pb2


def message(*vservers: int, last_updated: int = 1) -> config_pb2.Cluster:
    return read_cluster_text(cluster_text(*vservers, last_updated=last_updated), "x", "au-syd").proto


def test_save_archives_the_old_file_and_writes_one_that_loads(tmp_path: Path) -> None:
    path = tmp_path / "cluster.pb"
    path.write_text(cluster_text(1, last_updated=1))
    assert config_archive.save(path, message(1, 2, last_updated=2), "https://cfg1/config/au-syd", keep=10, now=1000)
    loaded = read_cluster_file(path, "au-syd").cluster
    assert set(loaded.vservers) == {"web1@au-syd", "web2@au-syd"} and loaded.metadata.last_updated == 2
    assert path.read_text().startswith("# Written by seesaw-engine from https://cfg1/config/au-syd at 1970-01-01 ")
    (copy,) = config_archive.archived(tmp_path / "archive", "cluster.pb")
    assert copy.name == "cluster.pb.1000" and copy.read_text() == cluster_text(1, last_updated=1)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cluster.pb.")]  # no temporary left


def test_the_same_config_is_not_written_again(tmp_path: Path) -> None:
    path = tmp_path / "cluster.pb"
    assert config_archive.save(path, message(1), "peer", keep=10, now=1000)  # no old file: nothing to archive
    before = path.stat().st_mtime_ns
    assert not config_archive.save(path, message(1), "elsewhere", keep=10, now=2000)
    assert path.stat().st_mtime_ns == before and not (tmp_path / "archive").exists()


def test_the_archive_keeps_the_newest(tmp_path: Path) -> None:
    path = tmp_path / "cluster.pb"
    path.write_text(cluster_text(1))
    for step in range(5):
        config_archive.save(path, message(1, last_updated=10 + step), "peer", keep=3, now=1000)  # same second
    names = [p.name for p in config_archive.archived(tmp_path / "archive", "cluster.pb")]
    assert names == ["cluster.pb.1000.2", "cluster.pb.1000.3", "cluster.pb.1000.4"]
    config_archive.save(path, message(1, last_updated=99), "peer", keep=0, now=3000)
    assert config_archive.archived(tmp_path / "archive", "cluster.pb") == []


def test_metadata_only_changes_are_not_archived(tmp_path: Path) -> None:
    path = tmp_path / "cluster.pb"
    path.write_text(cluster_text(1, last_updated=1))
    config_archive.save(path, message(1, last_updated=2), "peer", keep=5, now=1000, archive=False)
    assert config_archive.archived(tmp_path / "archive", "cluster.pb") == []


def test_an_unwritable_directory_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "cluster.pb"
    path.parent.mkdir()
    path.write_text(cluster_text(1))
    (path.parent / "archive").write_text("not a directory")
    with pytest.raises(OSError):
        config_archive.save(path, message(1, 2), "peer", keep=5, now=1000)
    assert path.read_text() == cluster_text(1)
