"""Text every machine has (no ../shared): Python sources of installed packages, a short multilingual sample, and
multilingual text generated from the Unicode database."""

from __future__ import annotations

import importlib
import random
import unicodedata
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


# Scripts of the generated text (first word of the characters' Unicode names); the last four are written without
# spaces between words, as Thai, Japanese and Chinese are.
SCRIPTS = (
    "LATIN",
    "GREEK",
    "CYRILLIC",
    "ARMENIAN",
    "HEBREW",
    "ARABIC",
    "DEVANAGARI",
    "BENGALI",
    "TAMIL",
    "GEORGIAN",
    "ETHIOPIC",
    "HANGUL",
    "THAI",
    "HIRAGANA",
    "KATAKANA",
    "CJK",
)
UNSPACED = {"THAI", "HIRAGANA", "KATAKANA", "CJK"}


@cache
def script_characters() -> dict[str, tuple[list[str], list[str], list[str]]]:
    """Per script, its letters, combining marks and decimal digits in the Basic Multilingual Plane (from unicodedata)."""
    found: dict[str, tuple[list[str], list[str], list[str]]] = {script: ([], [], []) for script in SCRIPTS}
    for code in range(0x20, 0x10000):
        char = chr(code)
        kind = {"L": 0, "M": 1}.get(unicodedata.category(char)[0], 2 if unicodedata.category(char) == "Nd" else -1)
        script = unicodedata.name(char, " ").split(" ")[0]
        if kind >= 0 and script in found and not unicodedata.decomposition(char).startswith("<"):  # no compat forms
            found[script][kind].append(char)
    return found


def script_lines(script: str, chars: int, rng: random.Random) -> list[str]:
    """About ``chars`` characters of lines in one script: sentences of a Zipf-distributed lexicon of 400 words (so
    BPE finds merges), with marks, native and ASCII digits, punctuation, some Latin and Hangul words decomposed
    (non-NFC), then a long run of one letter and a long unspaced run."""
    letters, marks, digits = script_characters()[script]
    if script == "LATIN":  # mostly the letters of European languages
        letters = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") * 3 + list("éèêàâäôöüùçñßøåæœıłřšž")
    elif script == "CJK":
        letters = [char for char in letters if char >= "\u4e00"]
    alphabet = rng.sample(letters[:3000], min(200 if script == "CJK" else 60, len(letters)))
    lexicon = [
        "".join(
            rng.choice(alphabet) + (rng.choice(marks) if marks and rng.random() < 0.2 else "")
            for _ in range(rng.randint(1, 7))
        )
        for _ in range(400)
    ]
    weights = [1 / rank for rank in range(1, len(lexicon) + 1)]
    space = "" if script in UNSPACED else " "
    lines: list[str] = []
    size = 0
    while size < chars:
        words = rng.choices(lexicon, weights, k=rng.randint(2, 14))
        if script in ("LATIN", "HANGUL") and rng.random() < 0.2:
            words = [unicodedata.normalize("NFD", word) for word in words]
        if rng.random() < 0.3:
            number = "".join(rng.choice(digits or "0123456789") for _ in range(rng.randint(1, 9)))
            words.insert(rng.randrange(len(words) + 1), number)
        line = space.join(words) + rng.choice([".", ",", "!", "?", ":", "。", "؟", " —", "", "..."])
        lines.append(line)
        size += len(line)
    lines.append(rng.choice(alphabet) * rng.randint(100, 600))  # a long run of one letter
    lines.append("".join(rng.choices(alphabet, k=rng.randint(200, 600))))  # a long unspaced run
    return lines


@cache
def generated_multilingual(chars_per_script: int = 40_000, seed: int = 22) -> str:
    """Deterministic text in the 16 ``SCRIPTS`` from the Unicode database (``script_lines``), with runs of spaces,
    tabs, digits, emoji and marks; lines of all scripts shuffled together."""
    rng = random.Random(seed)
    lines = [line for script in SCRIPTS for line in script_lines(script, chars_per_script, rng)]
    lines += [" " * 300, "\t\n " * 40, "9" * 500, "🤗" * 120, "👩\u200d💻" * 50, "e\u0301" * 150, "\u3000" * 80]
    rng.shuffle(lines)
    return "\n".join(lines) + "\n"


def portable_text(max_chars: int = 1_500_000) -> str:
    """About ``max_chars`` characters every machine has: Python sources and the generated multilingual text, in
    alternating blocks of 20,000 characters."""
    code, generated = python_sources(max_chars // 2), generated_multilingual()[: max_chars - max_chars // 2]
    block = 20_000
    return "".join(
        code[i : i + block] + generated[i : i + block] for i in range(0, max(len(code), len(generated)), block)
    )
