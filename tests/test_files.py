"""egnn_lite._files.write_atomically: a file is replaced whole or not at all."""

import stat

import pytest

from egnn_lite._files import write_atomically


def test_writes_replaces_and_leaves_no_temporary_file(tmp_path):
    path = write_atomically(tmp_path / "sub" / "a.bin", lambda f: f.write(b"first"))
    assert path.read_bytes() == b"first" and stat.S_IMODE(path.stat().st_mode) == 0o644
    write_atomically(path, lambda f: f.write(b"second"))
    assert path.read_bytes() == b"second" and [p.name for p in path.parent.iterdir()] == ["a.bin"]


def test_a_failing_write_keeps_the_old_file(tmp_path):
    path = write_atomically(tmp_path / "a.bin", lambda f: f.write(b"old"))

    def half(f):
        f.write(b"half of the new")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, half)
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["a.bin"]
    with pytest.raises(KeyboardInterrupt):
        write_atomically(tmp_path / "b.bin", lambda f: (_ for _ in ()).throw(KeyboardInterrupt()))
    assert not (tmp_path / "b.bin").exists() and [p.name for p in tmp_path.iterdir()] == ["a.bin"]
