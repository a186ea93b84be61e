"""Text every machine has: Python sources of installed packages and a short multilingual sample (no ../shared)."""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

MULTILINGUAL = [
    "The quick brown fox; it's 2024-05-01, 3.14159 and $1,000,000.\n\n  indented\tcode()",
    "Der Größenwahn ließ Jürgen öfter über Straßen gehen. Ça va très bien, merci !",
    "我们在北京的大学学习中文，每天早上八点上课。日本語のテキストも少し：こんにちは、世界。",
    "한국어 문장도 있습니다. Привет, как дела? Всё хорошо. مرحبا بالعالم، كيف حالك؟",
    "नमस्ते दुनिया क़िला ज़मीन, สวัสดีครับ ยินดีต้อนรับ ሰላም ለዓለም Γειά σου Κόσμε",
    "emoji 🤗🧪👩\u200d💻 e\u0301 ﬁ ｆｕｌｌ ①  many   spaces   \r\n\x0bend",
]


@cache
def python_sources(max_bytes: int = 400_000) -> str:
    """The first ``max_bytes`` characters of the sources of a few installed packages, in a fixed order."""
    parts: list[str] = []
    size = 0
    for name in ("regex", "tokenizers", "hypothesis", "numpy"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for path in sorted(Path(module.__file__ or "").parent.rglob("*.py")):
            text = path.read_text(encoding="utf-8", errors="replace")
            parts.append(text)
            size += len(text)
            if size >= max_bytes:
                return "".join(parts)[:max_bytes]
    return "".join(parts)


def sample_text(max_bytes: int = 400_000) -> str:
    """Python sources with the multilingual sample woven in."""
    return python_sources(max_bytes) + "\n".join(MULTILINGUAL * 20)
