"""Celery's filesystem broker (`make run`, no Redis) with messages that appear whole.

kombu's filesystem channel creates a message file, then writes it: a worker listing the folder in
between moves the empty file away and dies on it (`JSONDecodeError`, "Unrecoverable error"; seen
on the first minute of `make run`). Here the message is written under a name the reader skips
(it does not end in `.<queue>.msg`) and renamed into place, which is atomic on one filesystem.
Registered as the `filesystem` transport in leadfollow/celery.py; Redis is unaffected.
"""

import os
import uuid

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(filesystem.monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.partial"
        try:
            with open(partial, "wb", buffering=0) as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
