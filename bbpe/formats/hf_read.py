"""Reading a Hugging Face ``tokenizer.json`` as a bbpe vocabulary: what bbpe can do exactly, or one line why not.

Implemented exactly (the file's own tokenizer and bbpe give the same ids, ``allowed_special="all"``):

* a BPE model over GPT-2's byte-level alphabet; ``ignore_merges`` either way (see below);
* normalizers NFC, NFD, NFKC, NFKD (alone or as a Sequence of one), or none;
* pre-tokenizers ByteLevel with its own regex (GPT-2's pattern), or Split(regex, ``Isolated``) then
  ByteLevel without a regex;
* added tokens get the id ``tokenizers`` gives them (the text's id in ``model.vocab`` if it is there,
  as for every ByteLevel BPE trained by ``tokenizers``; else numbered from the vocabulary's size up):
  ``special: true`` ones become special tokens, ``special: false`` ones added tokens (always cut out
  of the text, as ``tokenizers`` matches them even with ``split_special_tokens``).  An added token
  whose text is the byte-level stand-in of a byte the model lacks is that byte's token (DeepSeek
  LLM/Coder lack 13 bytes that never occur in UTF-8 and add them as ``ø``, ``ö``, ...);
* the merge list, when rank-based BPE over the ids does the same merges: the merges' tokens come in
  id order, and each token's pair that rank-based BPE builds it from is in the list (for a token BPE
  builds from three or more parts: every pair of tokens that spells it).  With ``ignore_merges``
  false, every token must also be what BPE makes of its own text.

Refused with one line naming the feature: other models, normalizers and pre-tokenizers, Split
behaviours other than ``Isolated``, ``add_prefix_space``, added tokens with ``lstrip``, ``rstrip``
or ``single_word``, ``normalized`` added tokens under a normalizer, BPE dropout, subword prefixes
and suffixes, merges out of id order.  A post-processor that adds tokens, truncation and padding
only change ``encode`` with ``add_special_tokens=True`` or batches: a warning says bbpe's ids are
those without them.  When ``tokenizers`` is installed the file is also loaded there and compared
on a probe text holding every special token.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from bbpe import bpe
from bbpe.encoding.encoder import Encoder
from bbpe.encoding.normalization import NORMALIZATIONS, Normalization
from bbpe.encoding.tiktoken_engine import has_tiktoken
from bbpe.errors import VocabFormatError
from bbpe.formats import _checks
from bbpe.formats.detect import read_json
from bbpe.formats.hf import probe_text
from bbpe.formats.hf_bytes import byte_aliases, to_bytes
from bbpe.pretokenize.patterns import GPT2, compile_pattern, from_oniguruma
from bbpe.vocabulary import Vocabulary

log = logging.getLogger("bbpe")
PathLike = str | os.PathLike[str]


def read(path: PathLike, *, data: dict[str, Any] | None = None) -> Vocabulary:
    """Read a byte-level BPE ``tokenizer.json`` (``data``: its already parsed JSON)."""
    data = read_json(path) if data is None else data
    model = _model(path, data.get("model"))
    keys = {key: _checks.token_id(path, f"model.vocab[{key!r}]", rank) for key, rank in model["vocab"].items()}
    normalization = _normalization(path, data.get("normalizer"))
    pattern = _pattern(path, data.get("pre_tokenizer"))
    replaced = _decoder_keys(path, data.get("decoder"))
    for placeholder in replaced:  # bbpe's export: a whole placeholder key, in no other key
        if placeholder not in keys or any(placeholder in key for key in keys if key != placeholder):
            raise VocabFormatError(
                path, f"decoder Replace of {placeholder!r}, which is not one whole model token, changes decoding"
            )
    ids, special = _added_tokens(path, data.get("added_tokens"), keys, normalized=normalization != "none")
    specials = {text: rank for text, rank in ids.items() if text in special}
    added = {text: rank for text, rank in ids.items() if text not in special}
    # an added token that is a regular token of model.vocab (a byte, or built by a merge) keeps it and shares its id
    built = _merge_results(model.get("merges"))
    regular = {text for text in added if text in keys and (text in built or len(to_bytes(text) or b"..") == 1)}
    own = {text: rank for text, rank in ids.items() if text not in regular}
    ranks = _regular_tokens(path, keys, set(own.values()), replaced)
    ranks |= byte_aliases(ranks, added)
    key_bytes = {key: raw for key in keys if (raw := to_bytes(replaced.get(key, key))) is not None}
    special_bytes = {key_bytes[text] for text in own if text in key_bytes}
    merges = _merges(path, model.get("merges"), key_bytes, ranks, special_bytes)
    # Plain-ASCII special or added text is cut out of every text before BPE: tokens holding it are never reached.
    cut_out = {text.encode() for text in ids if to_bytes(text) == text.encode()}
    if normalization != "none":  # ... unless normalization makes that text again (full-width forms under NFKC)
        _check_specials_under_normalization(path, cut_out, model.get("merges"), key_bytes, pattern, normalization)
        cut_out = set()
    _check_merge_order(path, ranks, merges, ignore_merges=model.get("ignore_merges") is True, cut_out=cut_out)
    _warn_about_extras(path, data)
    try:
        vocabulary = Vocabulary(ranks, pattern, specials, normalization=normalization, added_tokens=added)
    except ValueError as exc:
        raise VocabFormatError(path, str(exc)) from None
    _compare_with_tokenizers(path, data, vocabulary)
    return vocabulary


def _model(path: PathLike, model: Any) -> dict[str, Any]:
    if not isinstance(model, dict) or model.get("type", "BPE") != "BPE" or not isinstance(model.get("vocab"), dict):
        raise VocabFormatError(path, "not a BPE tokenizer.json (model.type must be 'BPE' with a vocab)")
    if model.get("dropout") not in (None, 0, 0.0):
        raise VocabFormatError(path, "model.dropout: BPE dropout (random merges) has no exact equivalent in bbpe")
    for field in ("continuing_subword_prefix", "end_of_word_suffix"):
        if model.get(field) not in (None, ""):
            raise VocabFormatError(path, f"model.{field} {model[field]!r}: not a byte-level BPE; bbpe reads none")
    return model


def _normalization(path: PathLike, node: Any) -> Normalization:
    """The Unicode form of the normalizer (none, or one NFC/NFD/NFKC/NFKD, possibly in a Sequence)."""
    node = _checks.object_or_none(path, "normalizer", node)
    if node.get("type") == "Sequence":
        parts = node.get("normalizers")
        if not isinstance(parts, list) or len(parts) > 1:
            raise VocabFormatError(path, "normalizer: a Sequence of several normalizers is not supported")
        return _normalization(path, parts[0]) if parts else "none"
    kind = node.get("type")
    if kind is None:
        return "none"
    for form in NORMALIZATIONS[1:]:
        if kind == form:
            return form
    raise VocabFormatError(path, f"normalizer {kind!r} is not supported (bbpe implements NFC, NFD, NFKC, NFKD)")


def _pattern(path: PathLike, node: Any) -> str:
    """The pre-tokenization regex: Split(regex, Isolated) + ByteLevel(no regex), or ByteLevel's own (GPT-2's)."""
    steps = _flatten(path, _checks.object_or_none(path, "pre_tokenizer", node))
    kinds = [step.get("type") for step in steps]
    other = next((kind for kind in kinds if kind not in ("Split", "ByteLevel")), None)
    if other is not None or "ByteLevel" not in kinds:
        found = f"{other!r}" if other is not None else "none"
        raise VocabFormatError(
            path, f"pre_tokenizer {found} is not supported (bbpe reads ByteLevel, or Split(regex) + ByteLevel)"
        )
    byte_level = steps[-1]
    if kinds.count("ByteLevel") != 1 or kinds[-1] != "ByteLevel":
        raise VocabFormatError(path, "pre_tokenizer: ByteLevel must come once, last")
    if byte_level.get("add_prefix_space", True) is not False:
        raise VocabFormatError(
            path, "pre_tokenizer ByteLevel add_prefix_space=true (a space put before the text) is not supported"
        )
    if len(steps) == 1:
        if byte_level.get("use_regex", True) is False:
            raise VocabFormatError(path, "pre_tokenizer: ByteLevel without a regex and no Split (no pre-tokenization)")
        return GPT2
    if len(steps) != 2:
        raise VocabFormatError(path, "pre_tokenizer: only one Split before ByteLevel is supported")
    split = steps[0]
    if byte_level.get("use_regex", True) is not False:
        raise VocabFormatError(path, "pre_tokenizer: a Split and ByteLevel's own regex (two regexes) is not supported")
    regex_of = _checks.object_or_none(path, "pre_tokenizer Split.pattern", split.get("pattern")).get("Regex")
    if not isinstance(regex_of, str):
        raise VocabFormatError(path, "pre_tokenizer Split: only a Regex pattern is supported (not a String)")
    if split.get("behavior") != "Isolated" or split.get("invert", False) is not False:
        raise VocabFormatError(
            path,
            f"pre_tokenizer Split behavior {split.get('behavior')!r}"
            f"{' with invert' if split.get('invert') else ''} is not supported (bbpe reads Isolated)",
        )
    return from_oniguruma(regex_of)


def _flatten(path: PathLike, node: dict[str, Any]) -> list[dict[str, Any]]:
    if node.get("type") != "Sequence":
        return [node] if node else []
    children = node.get("pretokenizers")
    if not isinstance(children, list):
        raise VocabFormatError(path, "pre_tokenizer.pretokenizers: expected a list")
    return [
        step
        for child in children
        for step in _flatten(path, _checks.object_or_none(path, "pre_tokenizer.pretokenizers[]", child))
    ]


def _decoder_keys(path: PathLike, node: Any) -> dict[str, str]:
    """Placeholder keys a Sequence of Replace decoders turns into byte-level keys (bbpe's export writes them)."""
    node = _checks.object_or_none(path, "decoder", node)
    steps = node.get("decoders") if node.get("type") == "Sequence" else [node]
    if not isinstance(steps, list):
        raise VocabFormatError(path, "decoder.decoders: expected a list")
    replaced: dict[str, str] = {}
    for step in steps:
        step = _checks.object_or_none(path, "decoder", step)
        kind = step.get("type")
        if kind == "Replace":
            pattern = _checks.object_or_none(path, "decoder Replace.pattern", step.get("pattern")).get("String")
            content = step.get("content")
            if not isinstance(pattern, str) or not isinstance(content, str):
                raise VocabFormatError(path, "decoder Replace: expected a String pattern and a content")
            replaced[pattern] = content
        elif kind not in (None, "ByteLevel"):
            raise VocabFormatError(path, f"decoder {kind!r} is not supported (bbpe reads ByteLevel)")
    return replaced


def _added_tokens(
    path: PathLike, added: Any, keys: dict[str, int], *, normalized: bool
) -> tuple[dict[str, int], set[str]]:
    """Every added token with the id ``tokenizers`` gives it, in file order (see the module docstring), and
    which of them are ``special``."""
    added = added or []
    if not isinstance(added, list):
        raise VocabFormatError(path, "added_tokens: expected a list of objects")
    ids: dict[str, int] = {}
    special: set[str] = set()
    groups: dict[bool, list[str]] = {False: [], True: []}
    for index, entry in enumerate(added):
        where = f"added_tokens[{index}]"
        if not isinstance(entry, dict):
            raise VocabFormatError(path, f"{where}: expected an object with 'content' and 'id'")
        content = _checks.text_of(path, f"{where}.content", entry.get("content"))
        declared = _checks.token_id(path, f"{where}.id", entry.get("id"))
        for flag, meaning in (
            ("lstrip", "takes the spaces before it"),
            ("rstrip", "takes the spaces after it"),
            ("single_word", "matches whole words only"),
        ):
            if entry.get(flag):
                raise VocabFormatError(
                    path, f"{where} {content!r}: {flag}=true ({meaning}) is not supported; bbpe cuts tokens out exactly"
                )
        is_normalized = bool(entry.get("normalized", not entry.get("special", False)))
        if is_normalized and normalized:
            raise VocabFormatError(
                path,
                f"{where} {content!r}: normalized=true under a normalizer (matched in the normalized text) is not "
                "supported; bbpe cuts special tokens out of the raw text",
            )
        groups[is_normalized].append(content)
        if entry.get("special", False):
            special.add(content)
        number = ids.get(content, keys.get(content))
        if number is None:  # tokenizers: after the largest added id, or the model's size if that is larger
            top = max(ids.values(), default=None)
            number = top + 1 if top is not None and (top >= len(keys) or not keys) else len(keys)
        if number != declared:
            log.warning("%s: %s %r has id %d in tokenizers, not the %d written", path, where, content, number, declared)
        ids[content] = number
    _check_groups(path, groups)
    return ids, special


def _check_groups(path: PathLike, groups: dict[bool, list[str]]) -> None:
    """``tokenizers`` matches non-normalized added tokens first, then normalized ones: one splitter is the same
    unless a token of one group can overlap a token of the other."""
    for first in groups[False]:
        for second in groups[True]:
            if _overlap(first, second) or _overlap(second, first):
                raise VocabFormatError(
                    path,
                    f"added tokens {first!r} (normalized=false) and {second!r} (normalized=true) overlap; tokenizers "
                    "matches them in two passes, bbpe in one",
                )


def _overlap(left: str, right: str) -> bool:
    """True when ``left`` contains ``right`` or a suffix of ``left`` is a prefix of ``right``."""
    return right in left or any(right.startswith(left[at:]) for at in range(1, len(left)))


def _regular_tokens(
    path: PathLike, keys: dict[str, int], special_ids: set[int], replaced: dict[str, str]
) -> dict[bytes, int]:
    """The model's tokens that are not special (nor an added token with an id of its own), as bytes -> id."""
    ranks: dict[bytes, int] = {}
    for key, rank in keys.items():
        if rank in special_ids:
            raw = to_bytes(key)
            if raw is not None and raw != key.encode("utf-8"):
                raise VocabFormatError(
                    path,
                    f"added token {key!r} is also the byte-level key of the bytes {raw!r}, which BPE can build from "
                    "ordinary text; bbpe cannot tell the two apart",
                )
            continue
        raw = to_bytes(replaced.get(key, key))
        if raw is None:
            raise VocabFormatError(
                path, f"model.vocab[{key!r}]: not a GPT-2 byte-level string; only byte-level BPE is supported"
            )
        if raw in ranks:
            raise VocabFormatError(path, f"model.vocab[{key!r}]: the bytes {raw!r} have two ids ({ranks[raw]}, {rank})")
        ranks[raw] = rank
    return ranks


def _merge_results(merges: Any) -> set[str]:
    """The keys the merge list builds (malformed entries are left to ``_merges`` to report)."""
    results: set[str] = set()
    for merge in merges if isinstance(merges, list) else []:
        parts = merge.split(" ") if isinstance(merge, str) else merge
        if isinstance(parts, list) and len(parts) == 2 and all(isinstance(part, str) for part in parts):
            results.add(parts[0] + parts[1])
    return results


def _merges(
    path: PathLike, merges: Any, key_bytes: dict[str, bytes], ranks: dict[bytes, int], special_bytes: set[bytes]
) -> list[tuple[bytes, bytes]]:
    """The merge list as byte pairs that build regular tokens (merges building a special's text are dropped:
    ``tokenizers`` cuts that text out before BPE)."""
    if merges is None:
        merges = []
    if not isinstance(merges, list):
        raise VocabFormatError(path, "model.merges: expected a list")
    pairs: list[tuple[bytes, bytes]] = []
    for index, merge in enumerate(merges):
        parts = merge.split(" ") if isinstance(merge, str) else merge
        if not isinstance(parts, list) or len(parts) != 2 or not all(isinstance(part, str) for part in parts):
            raise VocabFormatError(path, f"model.merges[{index}]: expected two tokens")
        left, right = (key_bytes.get(part) for part in parts)
        if left is None or right is None:
            raise VocabFormatError(path, f"model.merges[{index}]: {parts!r} is not a pair of byte-level vocab tokens")
        if left + right in ranks:
            pairs.append((left, right))
        elif left + right not in special_bytes:
            raise VocabFormatError(path, f"model.merges[{index}]: {parts!r} builds a token that is not in model.vocab")
    return pairs


def _check_merge_order(
    path: PathLike,
    ranks: dict[bytes, int],
    merges: list[tuple[bytes, bytes]],
    *,
    ignore_merges: bool,
    cut_out: set[bytes],
) -> None:
    """VocabFormatError unless rank-based BPE over the ids merges as the merge list does (module docstring);
    tokens that hold ``cut_out`` text are never reached, so they need not agree."""

    def reached(token: bytes) -> bool:
        return not any(text in token for text in cut_out)

    last = -1
    for index, (left, right) in enumerate(merges):
        if not reached(left + right):
            continue
        rank = ranks[left + right]
        if rank < last:
            raise VocabFormatError(
                path,
                f"model.merges[{index}] builds id {rank} after a merge built id {last}: the merge order differs from "
                "the id order (bbpe's BPE merges by id)",
            )
        last = rank
    listed = set(merges)
    for token, rank in sorted(ranks.items(), key=lambda item: item[1]):
        if len(token) < 2 or not reached(token):
            continue
        built = bpe.bpe_split(token, ranks, max_rank=rank)
        if len(built) == 2:
            needed = [(built[0], built[1])]
        else:
            needed = [
                (token[:at], token[at:]) for at in range(1, len(token)) if token[:at] in ranks and token[at:] in ranks
            ]
        missing = next((pair for pair in needed if pair not in listed), None)
        if missing is not None:
            raise VocabFormatError(
                path,
                f"token {token!r} (id {rank}): the merge list lacks {missing!r}, the pair rank-based BPE builds it from",
            )
        if not ignore_merges and len(built) != 2 and bpe.bpe_split(token, ranks) != [token]:
            raise VocabFormatError(
                path,
                f"token {token!r} (id {rank}) is not what BPE makes of its own text; with ignore_merges=false "
                "tokenizers never gives it for that text, bbpe (tiktoken's rules) does",
            )


def _check_specials_under_normalization(
    path: PathLike,
    cut_out: set[bytes],
    merges: Any,
    key_bytes: dict[str, bytes],
    pattern: str,
    normalization: str,
) -> None:
    """Under a normalizer, normalized text can hold a special's text again; ``tokenizers`` then finds the special's
    key in the model where bbpe encodes ordinary text.  Refused when a pre-token can spell that key: one character,
    a merge's result, or text the pattern keeps whole."""
    built = set()
    for merge in merges or []:
        parts = merge.split(" ") if isinstance(merge, str) else merge
        if isinstance(parts, list) and len(parts) == 2 and all(part in key_bytes for part in parts):
            built.add(key_bytes[parts[0]] + key_bytes[parts[1]])
    findall = compile_pattern(pattern).findall
    for raw in sorted(cut_out):
        text = raw.decode()
        if len(text) == 1 or raw in built or findall(text) == [text]:
            raise VocabFormatError(
                path,
                f"added token {text!r} is a model token that {normalization}-normalized text can spell; tokenizers "
                "would give it the added token's id, bbpe encodes it as ordinary text",
            )


def _warn_about_extras(path: PathLike, data: dict[str, Any]) -> None:
    """A warning for parts that change ``tokenizers``' ids only with add_special_tokens=True or in batches."""
    processor = _checks.object_or_none(path, "post_processor", data.get("post_processor"))
    steps = processor.get("processors") if processor.get("type") == "Sequence" else [processor]
    kinds = [step.get("type") for step in steps or [] if isinstance(step, dict)]
    adding = [kind for kind in kinds if kind not in (None, "ByteLevel")]
    if adding:
        log.warning(
            "%s: post_processor %s adds tokens when tokenizers encodes with add_special_tokens=True; bbpe gives "
            "the ids without them",
            path,
            adding[0],
        )
    for field in ("truncation", "padding"):
        if data.get(field) is not None:
            log.warning("%s: %s is set in the file; bbpe encodes whole texts without it", path, field)


def _compare_with_tokenizers(path: PathLike, data: dict[str, Any], vocabulary: Vocabulary) -> None:
    """When ``tokenizers`` is installed: the file's own ids on a probe text holding every special token."""
    try:
        from tokenizers import Tokenizer as HFTokenizer
    except ImportError:
        return
    try:
        loaded = HFTokenizer.from_str(json.dumps(data))
    except Exception as exc:  # tokenizers raises its own Exception types
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise VocabFormatError(path, f"Hugging Face tokenizers cannot load it ({first})") from None
    encoder = Encoder(
        vocabulary.ranks,
        pattern=vocabulary.pattern,
        special_tokens=vocabulary.special_tokens,
        normalization=vocabulary.normalization,
        engine="tiktoken" if has_tiktoken() else "python",
        added_tokens=vocabulary.added_tokens,
    )
    probe = probe_text({**vocabulary.added_tokens, **vocabulary.special_tokens})
    theirs = loaded.encode(probe, add_special_tokens=False).ids
    ours = encoder.encode(probe, allowed_special="all")
    if theirs != ours:
        at = next((i for i, (a, b) in enumerate(zip(theirs, ours)) if a != b), min(len(theirs), len(ours)))
        raise VocabFormatError(
            path,
            f"bbpe's reading gives other ids than tokenizers itself on a probe text (from token {at}: tokenizers "
            f"{theirs[at : at + 3]}, bbpe {ours[at : at + 3]}); the file uses something bbpe does not reproduce",
        )
