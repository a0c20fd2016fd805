from __future__ import annotations

from pathlib import Path

import pytest

from support.core.atomic_files import replacing, write_atomically


def test_a_file_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "models" / "model.bin"
    write_atomically(target, b"first")
    write_atomically(target, b"second version")
    assert target.read_bytes() == b"second version"
    assert [p.name for p in target.parent.iterdir()] == ["model.bin"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "index.json"
    write_atomically(target, b'{"old": true}')
    with pytest.raises(RuntimeError), replacing(target) as handle:
        handle.write(b'{"new": ')
        raise RuntimeError("the writer died half way")
    assert target.read_bytes() == b'{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["index.json"]
