"""How to cite an item: one plain-text citation, Vietnamese or English conventions."""

from __future__ import annotations

import datetime

from repository import record as rec


def citation(record: dict, url: str, lang: str = "vi") -> str:
    """Creator. *Title*. Date. Holding library, shelfmark. URL (accessed DD/MM/YYYY)."""
    parts = []
    if record.get("creator"):
        parts.append("; ".join(record["creator"]))
    parts.append(rec.pick(record["title"], lang))
    if record.get("date"):
        parts.append(record["date"]["display"])
    held = ", ".join(filter(None, [record.get("holding_library"), record.get("shelfmark")]))
    if held:
        parts.append(held)
    today = datetime.date.today()
    accessed = (f"truy cập ngày {today:%d/%m/%Y}" if lang == "vi"
                else f"accessed {today:%d %B %Y}")
    return ". ".join(p.rstrip(".") for p in parts) + f". {url} ({accessed})."
