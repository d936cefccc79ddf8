"""`switchyard keys rotate|list` on the local store of a data directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from switchyard.connections.store import LocalConnectionStore

SECRET = "keys-cli-secret-31d2"


def switchyard(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    env["SWITCHYARD_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-c", "from switchyard.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_rotate_rewraps_every_record_under_the_new_key(tmp_path: Path) -> None:
    for name in ("a", "b"):
        made = switchyard(tmp_path, "connection", "create", name, "--type", "http",
                          "--secret", f"token={SECRET}-{name}")  # fmt: skip
        assert made.returncode == 0, made.stderr
    [old] = LocalConnectionStore(tmp_path).keyring.kids

    rotated = switchyard(tmp_path, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    store = LocalConnectionStore(tmp_path)
    new = store.keyring.current_kid
    assert new != old and f"new master key {new}" in rotated.stdout
    assert store.key_ids_in_use() == {new: ["a", "b"]}

    listed = switchyard(tmp_path, "keys", "list")
    assert f"{new} (current): 2 connection(s)" in listed.stdout
    assert f"{old}: 0 connection(s)" in listed.stdout

    # The old key is no longer needed: remove it, every secret still reads.
    (tmp_path / "keys" / f"{old}.key").unlink()
    again = LocalConnectionStore(tmp_path)
    assert again.get("a").secrets == {"token": f"{SECRET}-a"}
    assert again.get("b").secrets == {"token": f"{SECRET}-b"}
    for path in (tmp_path / "connections").rglob("*"):
        assert SECRET.encode() not in path.read_bytes()
