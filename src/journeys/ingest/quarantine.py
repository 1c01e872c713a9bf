"""Rows that cannot be used are kept, with the reason and their place in the source file."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class QuarantinedRow:
    file: str
    line: int  # 1-based line in a text file (header = line 1 for CSV), 1-based row for Parquet
    reason: str
    row: dict[str, Any]


@dataclass
class Quarantine:
    """Collects bad rows; `write` appends them as JSON lines."""

    rows: list[QuarantinedRow] = field(default_factory=list)

    def add(self, file: str, line: int, reason: str, row: dict[str, Any]) -> None:
        self.rows.append(QuarantinedRow(str(file), int(line), reason, row))

    def __len__(self) -> int:
        return len(self.rows)

    def reasons(self) -> Counter:
        return Counter(r.reason.split(":")[0] for r in self.rows)

    def write(self, path: Path) -> None:
        if not self.rows:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            for r in self.rows:
                fh.write(
                    json.dumps(
                        {"file": r.file, "line": r.line, "reason": r.reason, "row": r.row},
                        default=str,
                        ensure_ascii=False,
                    )
                    + "\n"
                )
