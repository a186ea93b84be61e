"""Markdown of a ``bench_methods.py`` result: per vocab size a table of the methods, where superwords lose,
and per parity run where its merges went and what it did to every language."""

from __future__ import annotations

from typing import Any


def render(results: dict[str, Any]) -> str:
    s = results["settings"]
    train = (
        f"all of `{s['data']}/train`"
        if s.get("all")
        else f"a {s['train_bytes']:,}-byte per-language sample of `{s['data']}/train`"
        + (f" ({s['languages']} only)" if s.get("languages") else "")
    )
    lines = [
        "# Superword and parity-aware training vs plain BPE",
        "",
        f"Trained on {train}, pattern qwen. superword@T: transition at T x vocab (word limit {s.get('max_words')}); "
        f"parity@G: the first G x the merges global, then parity-aware, dev set `{s.get('dev')}`"
        + (", choosing on its even lines" if s.get("holdout") else "")
        + (f", languages under {s['min_bytes']:,} training bytes left out" if s.get("min_bytes") else "")
        + (f", patience {s['patience']}" if s.get("patience") else "")
        + ". Held out: "
        + ", ".join(f"`{name}` ({path})" for name, path in (s.get("held_out") or {}).items())
        + f"; English prose {results.get('english_prose_bytes', 0):,} bytes, "
        f"{results.get('english_prose_lines_in_training', '?')} of its lines found in the training files. "
        'Gini over the languages with training text ("trained") and over all; UDHR is not line-aligned, so its '
        f"Gini is approximate. {results['note'][:1].upper()}{results['note'][1:].rstrip('.')}.",
        "",
    ]
    for vocab, runs in results["runs"].items():
        lines += [f"## vocab {int(vocab):,}", "", *_method_table(runs), ""]
        for name in [n for n in runs if n.startswith("superword")]:
            lines += [*_losses(runs, name), ""]
        for name in [n for n in runs if n.startswith("parity")]:
            lines += [*_parity(runs, name), ""]
    return "\n".join(lines).rstrip() + "\n"


def _corpora(run: dict[str, Any]) -> list[str]:
    return [key for key, value in run.items() if isinstance(value, dict) and "tokens" in value]


def _method_table(runs: dict[str, Any]) -> list[str]:
    plain = runs["plain"]
    corpora = _corpora(plain)
    header = ["method", "vocab reached", "train s", "English prose tokens", "vs plain"]
    for name in corpora:
        header += [f"{name} bytes/token", "vs plain", f"{name} Gini (trained)", "vs plain", f"{name} Gini (all)"]
    rows = []
    for method, run in runs.items():
        row = [
            method,
            f"{run['vocab_size']:,}" + ("" if run["stop_reason"] == "vocab_size" else f" ({run['stop_reason']})"),
            f"{run['seconds']:.1f}",
            f"{run['english_prose_tokens']:,}",
            _ratio(run["english_prose_tokens"], plain["english_prose_tokens"]),
        ]
        for name in corpora:
            mine, base = run[name], plain[name]
            row += [
                f"{mine['bytes_per_token']:.3f}",
                _ratio(mine["bytes_per_token"], base["bytes_per_token"]),
                f"{mine['gini_trained']:.4f}",
                _ratio(mine["gini_trained"], base["gini_trained"]),
                f"{mine['gini_all']:.4f}",
            ]
        rows.append(row)
    return _table(header, rows)


def _losses(runs: dict[str, Any], name: str) -> list[str]:
    """Where a superword run needs more tokens than plain, per held-out corpus."""
    out = [f"`{name}` against plain, per language: where it needs more tokens"]
    for corpus in _corpora(runs["plain"]):
        plain, mine = runs["plain"][corpus]["tokens"], runs[name][corpus]["tokens"]
        worse = sorted(((mine[c] / n - 1, c) for c, n in plain.items() if n), reverse=True)
        lost = ", ".join(f"{code} {change:+.1%}" for change, code in worse if change > 0) or "nowhere"
        best = ", ".join(f"{code} {change:+.1%}" for change, code in sorted(worse)[:5])
        out.append(f"- `{corpus}`: {lost} (largest gains: {best})")
    return out


def _parity(runs: dict[str, Any], name: str) -> list[str]:
    """Where a parity run's merges went and what it did per language."""
    run, plain = runs[name], runs["plain"]
    info, trajectory = run["parity"], run["trajectory"]
    chosen = info["merges_per_language"]
    out = [
        f"### `{name}`: merges per language, dev cost over time, held-out tokens",
        "",
        f"Global merges: {chosen.get('*', 0):,}; parity merges by the choosing language below. Left out: "
        + (", ".join(f"{code} ({why})" for code, why in info["excluded"].items()) or "none")
        + ". Dev cost = premium over English on up to 400 held-out dev lines, after "
        + ", ".join(f"{n:,}" for n in trajectory["merges"])
        + " merges.",
        "",
    ]
    corpora = _corpora(plain)
    header = ["language", "merges", "stopped", "dev cost over time"]
    header += [f"{corpus} tokens vs plain" for corpus in corpora]
    codes = sorted(set(trajectory["premiums"]) | {c for c in chosen if c != "*"}, key=lambda c: -chosen.get(c, 0))
    rows = []
    for code in codes:
        stop = info["stopped"].get(code)
        row = [
            code,
            f"{chosen.get(code, 0):,}",
            f"{stop[0]} at {stop[1]:,}" if stop else "",
            " → ".join(f"{v:.2f}" for v in trajectory["premiums"].get(code, [])),
        ]
        for corpus in corpora:
            base, mine = plain[corpus]["tokens"].get(code), run[corpus]["tokens"].get(code)
            row.append(_ratio(mine, base) if base and mine else "")
        rows.append(row)
    out += _table(header, rows)
    scripts = sorted(run["vocab_scripts"], key=lambda k: -run["vocab_scripts"][k])
    out += [
        "",
        "Tokens by script (plain → this run): "
        + ", ".join(f"{k} {plain['vocab_scripts'].get(k, 0):,} → {run['vocab_scripts'][k]:,}" for k in scripts),
    ]
    return out


def _ratio(value: float | None, base: float | None) -> str:
    return f"{value / base - 1:+.1%}" if value is not None and base else ""


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    align = ["---"] + ["---:"] * (len(header) - 1)
    return ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"] + [
        "| " + " | ".join(row) + " |" for row in rows
    ]
