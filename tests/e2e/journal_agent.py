"""Run the real ``fluxilab-agent`` CLI, writing down every record it buffers.

    python -m tests.e2e.journal_agent JOURNAL simulate --devices 3 ...

The agent is unchanged; only :meth:`RecordBuffer.append` is wrapped so that, once a
record is committed to the device's buffer, one JSON line (device, seq, ts, kind,
data) is appended to JOURNAL. That file is what each device measured: the ground
truth the end-to-end tests compare Home Assistant against.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
import sys
from typing import Any

from fluxilab_agent import buffer, cli


def main() -> int:
    """Wrap the buffer, then hand the remaining arguments to the CLI."""
    journal = Path(sys.argv[1]).open("a", buffering=1, encoding="utf-8")  # noqa: SIM115
    append = buffer.RecordBuffer.append

    @functools.wraps(append)
    def journaled(
        self: buffer.RecordBuffer, kind: buffer.RecordKind, *args: Any, **kwargs: Any
    ) -> buffer.Record:
        record = append(self, kind, *args, **kwargs)
        line = {
            "device": self.path.parent.name,
            "stream": self.stream,
            "seq": record.seq,
            "ts": record.ts,
            "kind": record.kind.value,
            "data": record.data,
        }
        journal.write(json.dumps(line, separators=(",", ":")) + "\n")
        return record

    buffer.RecordBuffer.append = journaled  # type: ignore[method-assign]
    return cli.main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
