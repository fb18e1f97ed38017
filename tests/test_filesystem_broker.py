"""`make run`'s filesystem broker: a worker never sees a message file before it is whole."""

import os

from kombu import Connection
from kombu.transport import resolve_transport

from leadfollow import filesystem_broker


def test_the_filesystem_alias_is_ours():
    import leadfollow.celery  # noqa: F401 (registers the alias)

    assert resolve_transport("filesystem") is filesystem_broker.Transport


def test_a_message_appears_only_once_written(tmp_path, monkeypatch):
    import leadfollow.celery  # noqa: F401

    folder = str(tmp_path)
    seen_while_writing = []
    real_replace = os.replace

    def replace(src, dst):
        # The moment before the rename: what a worker listing the folder would find.
        seen_while_writing.append([f for f in os.listdir(folder) if f.endswith(".q.msg")])
        real_replace(src, dst)

    monkeypatch.setattr(filesystem_broker.os, "replace", replace)
    options = {"data_folder_in": folder, "data_folder_out": folder, "control_folder": folder, "store_processed": False}
    with Connection("filesystem://", transport_options=options) as conn:
        queue = conn.SimpleQueue("q")
        queue.put({"hello": "world"})
        assert seen_while_writing == [[]]  # not listed under its real name until whole
        assert queue.get(timeout=1).payload == {"hello": "world"}
        queue.close()
    assert not [f for f in os.listdir(folder) if f.endswith(".partial")]
