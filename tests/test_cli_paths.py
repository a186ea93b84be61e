"""Every output of every command is checked against every input before any work (issue 21).

The path arguments are found in the parser itself: every argument that takes free text (a string
without fixed choices) must be declared in ``bbpe.cli.paths`` as an input path, an output path or
not a path, so a new path option cannot be added unchecked.  Then, for every (output, input) pair of
every command, the CLI is run with the output on the input, inside an input directory, and (for
output directories) over an input it would write: one ``bbpe: error:`` line, exit 2, input intact.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from bbpe.cli import main
from bbpe.cli.main import build_parser
from bbpe.cli.paths import INPUTS, NOT_PATHS, OUTPUTS

COMMANDS: dict[str, argparse.ArgumentParser] = build_parser().get_default("commands")
# What each command with outputs needs besides its path arguments ("@dest": a path argument's slot).
BASE_ARGV = {
    "train": ["train", "--vocab", "300", "-q"],
    "inspect": ["inspect", "@vocab"],
    "export": ["export", "@vocab", "--format", "transformers"],
    "count": ["count", "@inputs", "-q"],
    "tokenize": ["tokenize", "@vocab", "@inputs", "-q", "--no-eot"],
    "compress-report": ["compress-report", "-q"],
}
CONTENT = b"an input that must survive\n"


def free_text_arguments(parser: argparse.ArgumentParser) -> set[str]:
    """Arguments whose value is any string: paths, or text that could be mistaken for one."""
    flags = (argparse._HelpAction, argparse._VersionAction, argparse._StoreConstAction)
    return {
        action.dest
        for action in parser._actions
        if not isinstance(action, flags) and action.type is None and action.choices is None
    }


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_free_text_argument_is_declared_exactly_once(command):
    declared = [*INPUTS[command], *OUTPUTS.get(command, {}), *NOT_PATHS[command]]
    assert len(declared) == len(set(declared)), f"{command}: an argument is declared twice"
    assert set(declared) == free_text_arguments(COMMANDS[command]), (
        f"bbpe {command}: declare every free-text argument in bbpe.cli.paths (INPUTS, OUTPUTS or NOT_PATHS)"
    )


def test_the_registry_names_only_commands_that_exist():
    assert set(INPUTS) == set(NOT_PATHS) == set(COMMANDS)
    assert set(OUTPUTS) == set(BASE_ARGV) <= set(COMMANDS)


def _flag(command: str, dest: str) -> str | None:
    """The option string of an argument, or None for a positional one."""
    action = next(a for a in COMMANDS[command]._actions if a.dest == dest)
    return action.option_strings[-1] if action.option_strings else None


def _argv(command: str, filler: Path, values: dict[str, str]) -> list[str]:
    """The command line with ``values`` for the given arguments and ``filler`` in other required path slots."""
    argv = [values.get(token[1:], str(filler)) if token.startswith("@") else token for token in BASE_ARGV[command]]
    for dest, value in values.items():
        if f"@{dest}" not in BASE_ARGV[command]:
            flag = _flag(command, dest)
            argv += [flag, value] if flag else [value]
    return argv


def _example_name(glob: str) -> str:
    return glob.replace("*", "x")


CASES = [
    (command, output, source, how)
    for command, outputs in OUTPUTS.items()
    for output, written in outputs.items()
    for source in INPUTS[command]
    for how in ("same", "inside", *(f"over:{glob}" for glob in written))
]


@pytest.mark.parametrize(("command", "output", "source", "how"), CASES)
def test_an_output_never_overwrites_an_input(capsys, tmp_path, command, output, source, how):
    filler = tmp_path / "filler.txt"
    filler.write_bytes(CONTENT)
    folder = tmp_path / "in"
    folder.mkdir()
    if how == "same":
        target = folder / "input.json"
        given, out, message = target, target, "the output is also an input"
    elif how == "inside":
        target = folder / "input.json"
        given, out, message = folder, folder / "new.out", "lies inside the input directory"
    else:
        target = folder / _example_name(how.split(":", 1)[1])
        given, out, message = target, folder, "would write over the input"
    target.write_bytes(CONTENT)
    code = main(_argv(command, filler, {source: str(given), output: str(out)}))
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith("bbpe: error: ") and message in lines[0], lines[0]
    assert target.read_bytes() == CONTENT and filler.read_bytes() == CONTENT
    assert [p.name for p in tmp_path.rglob("*.tmp") if p != target] == []


def test_a_symlinked_output_is_followed_and_a_device_output_is_allowed(capsys, tmp_path):
    vocab = tmp_path / "v.json"
    vocab.write_bytes(CONTENT)
    link = tmp_path / "link.png"
    link.symlink_to(vocab)
    assert main(["inspect", str(vocab), "--plot", str(link)]) == 2
    assert "the output is also an input" in capsys.readouterr().err and vocab.read_bytes() == CONTENT
    if os.path.exists("/dev/null"):  # an output on a device node is written through, never refused
        assert main(["count", "/dev/null", "-o", "/dev/null", "-q"]) == 2
        assert "also an input" not in capsys.readouterr().err


def test_the_two_reported_cases(capsys, tmp_path):
    """``inspect v.json --plot v.json`` replaced the vocabulary with a PNG; ``-o`` inside ``--parity-dev``
    overwrote a dev file."""
    vocab = tmp_path / "v.json"
    vocab.write_bytes(CONTENT)
    assert main(["inspect", str(vocab), "--plot", str(vocab)]) == 2
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "eng.txt").write_bytes(CONTENT)
    corpus = tmp_path / "eng.train.txt"
    corpus.write_text("some text\n" * 50)
    argv = ["train", str(corpus), "--parity-dev", str(dev), "--vocab", "300", "-o", str(dev / "eng.txt"), "-q"]
    assert main(argv) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("bbpe: error: ") for line in err)
    assert vocab.read_bytes() == CONTENT and (dev / "eng.txt").read_bytes() == CONTENT


def test_plot_with_compare_is_refused_not_ignored(capsys, tmp_path):
    out = tmp_path / "fig.png"
    assert main(["inspect", "--compare", "gpt2", "cl100k_base", "--plot", str(out)]) == 2
    assert "does not combine with --compare" in capsys.readouterr().err and not out.exists()
