"""The product's own Prometheus series, beside the model layer's (llm/metrics.py)."""

from __future__ import annotations

from prometheus_client import Counter

REPLY_LEAKS = Counter(
    "salesbot_reply_leaks",
    "Replies the leak guard stopped for repeating the system prompt, by what they repeated.",
    ["kind"],
)
