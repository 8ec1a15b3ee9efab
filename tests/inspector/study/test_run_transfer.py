"""Run folders shipped as tar bytes: a real run round-trips; hostile archives are refused."""

from __future__ import annotations

import io
import tarfile

import pytest

from inspector.errors import StoreError
from inspector.store import RunReader, RunWriter
from inspector.study.executors.transfer import pack_run, unpack_run


def a_run(root, name="r1"):
    writer = RunWriter.create(name, root=root, meta={"model": {"name": "m"}})
    writer.write_scalars([("loss", 0, 2.5), ("loss", 1, 1.5)])
    (writer.dir / "artifacts" / "note.txt").write_text("kernel snapshot stand-in")
    writer.set_status("finished")
    writer.close()
    return writer.dir


def test_a_run_round_trips(tmp_path):
    run = a_run(tmp_path / "worker")
    target = unpack_run(pack_run(run), tmp_path / "driver", run.name)
    assert target == tmp_path / "driver" / run.name
    with RunReader(target) as reader:
        assert reader.status == "finished"
        steps, values = reader.scalar("loss")
        assert steps.tolist() == [0, 1] and values.tolist() == [2.5, 1.5]
    assert (target / "artifacts" / "note.txt").read_text() == "kernel snapshot stand-in"
    assert [p.name for p in (tmp_path / "driver").iterdir()] == [run.name], "no staging left"


def test_an_existing_run_is_not_replaced(tmp_path):
    run = a_run(tmp_path / "worker")
    data = pack_run(run)
    unpack_run(data, tmp_path / "driver", run.name)
    with pytest.raises(StoreError, match="already exists"):
        unpack_run(data, tmp_path / "driver", run.name)


def archive(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for info, content in members:
            tar.addfile(info, io.BytesIO(content) if content is not None else None)
    return buf.getvalue()


def file_member(name: str, content: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    return info, content


def link_member(name: str, target: str, kind=tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


@pytest.mark.parametrize(
    "member",
    [
        file_member("/etc/evil"),
        file_member("r1/../../evil"),
        file_member("../evil"),
        file_member("other/run.sqlite"),
        link_member("r1/link", "/etc/passwd"),
        link_member("r1/hard", "/etc/passwd", tarfile.LNKTYPE),
        link_member("r1/fifo", "", tarfile.FIFOTYPE),
    ],
    ids=["absolute", "dotdot-inside", "dotdot", "other-folder", "symlink", "hardlink", "fifo"],
)
def test_hostile_archives_are_refused_and_write_nothing(tmp_path, member):
    driver = tmp_path / "driver"
    data = archive(file_member("r1/run.sqlite"), member)
    with pytest.raises(StoreError):
        unpack_run(data, driver, "r1")
    assert list(driver.iterdir()) == []
    assert not (tmp_path / "evil").exists()


@pytest.mark.parametrize("run_id", ["..", "a/b", "", "."])
def test_run_id_must_be_a_plain_folder_name(tmp_path, run_id):
    with pytest.raises(StoreError):
        unpack_run(archive(file_member("r1/x")), tmp_path, run_id)


def test_a_damaged_archive_is_a_store_error(tmp_path):
    run = a_run(tmp_path / "worker")
    with pytest.raises(StoreError, match="damaged"):
        unpack_run(pack_run(run)[:700], tmp_path / "driver", run.name)
