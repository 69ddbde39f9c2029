"""status.json is replaced atomically and only when something changed."""

import json
import os

from seesaw.watchdog.status import StatusFile, read_status, status_path


def test_written_when_changed_and_never_half_written(tmp_path):
    path = status_path(tmp_path / "run")
    assert path == tmp_path / "run" / "watchdog" / "status.json"
    status = StatusFile(path)
    assert status.update({"services": {"ncc": {"state": "running"}}})
    first_inode = os.stat(path).st_ino
    assert not status.update({"services": {"ncc": {"state": "running"}}})  # unchanged: not rewritten
    assert os.stat(path).st_ino == first_inode
    assert status.update({"services": {"ncc": {"state": "backoff"}}})
    assert os.stat(path).st_ino != first_inode  # a new file renamed over the old one
    data = read_status(tmp_path / "run")
    assert data["services"] == {"ncc": {"state": "backoff"}}
    assert isinstance(data["updated"], float)
    assert json.loads(path.read_text()) == data
    assert [p.name for p in path.parent.iterdir()] == ["status.json"]  # no temporary files left
