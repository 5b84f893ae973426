#!/usr/bin/env python3
"""Keeps the README's commands true: every fenced block says what checks it.

Each fenced block of README.md and events/README.md must follow a `<!-- readme-check: MARK -->`
line (blocks inside a section another owner keeps verbatim, between `<!-- BEGIN name -->` and
`<!-- END name -->`, take that section's default mark until they carry their own):

  banner, console, server   run by local/tests/it/readme.rs (in `make test`), output compared byte for byte
  ci                        commands .ci/run runs itself (or, for `make local`, local/tests/it/readme.rs)
  tools                     needs `make tools` but no AWS: checked here; `--run-tools` runs them
  docker                    needs Docker and the SAM CLI (sam local), no AWS: checked here, not run
  bench                     offline but minutes long (`make bench`): checked here, not run
  aws                       needs an AWS account (or an IdP tenant); the block starts with `# needs AWS`
  reference                 not a command: a template, a document, a diagram

For every shell block (and the `$ ` lines of console blocks) this script checks that the shell parses
(`bash -n`), that each `make <target> [VAR=value]` exists and dry-runs (`make -n`), that every file the
README names exists (templates, examples, events, samconfig.toml.example), and that every `](#anchor)`
link names a heading of the same file. One aws command is also run offline: `make -s stack-output
OUTPUT=ApiUrl` against a stand-in `sam` that prints what `sam list stack-outputs --output json` does.

Usage: scripts/check_readme.py              (exit 1 on any problem)
       scripts/check_readme.py --run-tools  (also run the `tools` blocks that need no running server)
       scripts/check_readme.py --self-test  (proves each check catches the mistake it is for)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ("README.md", "events/README.md")
MARKS = {"banner", "console", "server", "ci", "tools", "docker", "bench", "aws", "reference"}
SHELL_MARKS = {"server", "ci", "tools", "docker", "bench", "aws"}
# Sections kept verbatim for their owners: the mark their unmarked blocks get (per language).
SECTION_DEFAULTS = {
    "configuration": {"": "reference"},
    "performance": {"": "bench"},
    "twilio": {"sh": "aws", "": "reference"},
}
# What runs each command of a `ci` block.
CI_COMMANDS = {
    "make local": ("local/tests/it/readme.rs", "CARGO_BIN_EXE_local-api"),
    "make test": (".ci/run", "make test"),
    "make lint": (".ci/run", "cargo clippy"),
    "make ci": (".ci/run", "make test"),
}
# Commands --run-tools leaves out: they install from the network, or need a server another
# terminal runs (`make watch`), or wait for one.
NOT_RUN = re.compile(r"^(make (tools|watch|invoke)|\. \.venv/bin/activate && cargo lambda invoke)")
FILE_REFERENCE = re.compile(
    r"(?<![\w/.-])((?:examples|events)/[\w.-]+\.(?:json|yaml)|template(?:-[\w]+)?\.yaml|samconfig\.toml\.example"
    r"|scripts/[\w.-]+\.py|(?:local|authorizer)/tests/(?:[\w.-]+/)*[\w.-]+\.rs)"
)
MAKE_CALL = re.compile(r"\bmake\s+(?:-s\s+)?([a-z][\w%-]*)((?:\s+[A-Z][A-Z_]*=(?:\"[^\"]*\"|'[^']*'|\S+))*)")


@dataclass
class Block:
    file: str
    line: int
    lang: str
    mark: str | None
    section: str | None
    body: list[str]

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def blocks(file: str, text: str) -> list[Block]:
    found = []
    lines = text.split("\n")
    section = None
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if m := re.fullmatch(r"<!-- BEGIN (\w+) -->", stripped):
            section = m.group(1)
        elif re.fullmatch(r"<!-- END (\w+) -->", stripped):
            section = None
        elif stripped.startswith("```"):
            lang = stripped[3:].strip()
            previous = lines[i - 1].strip() if i else ""
            m = re.fullmatch(r"<!-- readme-check: ([\w-]+) -->", previous)
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```")), None)
            if end is None:
                raise SystemExit(f"{file}:{i + 1}: unclosed code block")
            indent = len(lines[i]) - len(lines[i].lstrip())
            body = [line[indent:] if line[:indent].strip() == "" else line for line in lines[i + 1 : end]]
            found.append(Block(file, i + 1, lang, m.group(1) if m else None, section, body))
            i = end
        i += 1
    return found


def effective_mark(block: Block) -> str | None:
    if block.mark:
        return block.mark
    defaults = SECTION_DEFAULTS.get(block.section or "")
    if defaults:
        return defaults.get(block.lang, defaults[""])
    return None


def commands(block: Block, mark: str) -> list[str]:
    """The shell lines of a block (console: the `$ ` lines), continuation lines joined."""
    if mark == "console":
        raw = [line[2:] for line in block.body if line.startswith("$ ")]
    else:
        raw = block.body
    joined, current = [], ""
    for line in raw:
        current += line
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        joined.append(current)
        current = ""
    return [c for c in (j.strip() for j in joined) if c and not c.startswith("#")]


def strip_comment(command: str) -> str:
    """`make local   # text` -> `make local` (a # outside quotes starts a comment)."""
    quote = None
    for i, c in enumerate(command):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or command[i - 1].isspace()):
            return command[:i].rstrip()
    return command


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-zA-Z%][\w%-]*):", text, re.M))


def check_make(call: re.Match, targets: set[str], where: str) -> list[str]:
    target, assignments = call.group(1), call.group(2)
    pattern_targets = [t for t in targets if "%" in t]
    if target not in targets and not any(re.fullmatch(t.replace("%", ".+"), target) for t in pattern_targets):
        return [f"{where}: `make {target}`: no such Makefile target"]
    args = ["make", "-n", target]
    # A value from the reader's shell ($TOKEN, $(...)) is a placeholder in a dry run.
    args += [re.sub(r"\$\([^)]*\)|\$\{?\w+\}?", "x", a.strip().replace('"', "").replace("'", "")) for a in re.findall(r"[A-Z][A-Z_]*=(?:\"[^\"]*\"|'[^']*'|\S+)", assignments)]
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL")}
    run = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env)
    if run.returncode != 0:
        return [f"{where}: `{' '.join(args)}` fails: {run.stderr.strip().splitlines()[-1:]}"]
    return []


def slug(heading: str) -> str:
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def check_file(file: str, text: str, targets: set[str]) -> list[str]:
    problems = []
    anchors = {slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}
    for link in re.findall(r"\]\(#([^)]+)\)", text):
        if link not in anchors:
            problems.append(f"{file}: link to #{link}: no such heading")
    for name in sorted(set(FILE_REFERENCE.findall(text))):
        if not (ROOT / name).exists() and not (ROOT / Path(file).parent / name).exists():
            problems.append(f"{file}: names {name}, which does not exist")
    for block in blocks(file, text):
        mark = effective_mark(block)
        if mark is None:
            problems.append(
                f"{block.where}: code block without <!-- readme-check: MARK --> (one of {', '.join(sorted(MARKS))})"
            )
            continue
        if mark not in MARKS:
            problems.append(f"{block.where}: unknown mark {mark!r}")
            continue
        if mark == "aws" and block.mark:
            first = next((line for line in block.body if line.strip()), "")
            if not first.startswith("# needs AWS"):
                problems.append(f"{block.where}: an aws block starts with a `# needs AWS...` line, so readers see it")
        if mark not in SHELL_MARKS and mark != "console":
            continue
        script = "\n".join(commands(block, mark))
        syntax = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
        if syntax.returncode != 0:
            problems.append(f"{block.where}: shell does not parse: {syntax.stderr.strip()}")
        for command in commands(block, mark):
            for call in MAKE_CALL.finditer(strip_comment(command)):
                problems += check_make(call, targets, block.where)
            if mark == "ci":
                bare = strip_comment(command)
                runner = CI_COMMANDS.get(bare)
                if runner is None:
                    problems.append(f"{block.where}: `{bare}` is marked ci but nothing in CI runs it (CI_COMMANDS)")
                elif runner[1] not in (ROOT / runner[0]).read_text():
                    problems.append(f"{block.where}: `{bare}`: {runner[0]} no longer runs it")
    return problems


def run_tools(file: str, text: str) -> list[str]:
    problems = []
    for block in blocks(file, text):
        if effective_mark(block) != "tools":
            continue
        for command in commands(block, "tools"):
            command = strip_comment(command)
            if NOT_RUN.match(command):
                print(f"skip {block.where}: {command} (network, or needs make watch running)")
                continue
            print(f"run  {block.where}: {command}", flush=True)
            if subprocess.run(["bash", "-c", command], cwd=ROOT).returncode != 0:
                problems.append(f"{block.where}: `{command}` failed")
    return problems


FAKE_SAM = """#!/bin/sh
printf '[{"OutputKey":"ApiUrl","OutputValue":"https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/"}]\\n'
"""


def check_stack_output() -> list[str]:
    """`API_URL=$(make -s stack-output OUTPUT=ApiUrl)` (an aws block) against a stand-in `sam` that
    prints what `sam list stack-outputs --output json` does: one bare URL, no trailing slash."""
    with tempfile.TemporaryDirectory() as bin_dir:
        fake = Path(bin_dir) / "sam"
        fake.write_text(FAKE_SAM)
        fake.chmod(0o755)
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL")}
        env["PATH"] = f"{bin_dir}:{env.get('PATH', '')}"
        run = subprocess.run(
            ["make", "-s", "stack-output", "OUTPUT=ApiUrl", "VENV=/nonexistent"],
            cwd=ROOT, capture_output=True, text=True, env=env,
        )
    want = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com\n"
    if run.returncode != 0 or run.stdout != want:
        return [f"make -s stack-output OUTPUT=ApiUrl printed {run.stdout!r} (exit {run.returncode}), want {want!r}"]
    return []


def check_all(texts: dict[str, str]) -> list[str]:
    targets = make_targets()
    problems = []
    for file, text in texts.items():
        problems += check_file(file, text, targets)
    if "stack-output" in targets:
        problems += check_stack_output()
    return problems


def self_test() -> int:
    texts = {f: (ROOT / f).read_text() for f in FILES}
    if problems := check_all(texts):
        print("the READMEs are not clean to start with:", *problems, sep="\n  ")
        return 1
    readme = texts["README.md"]
    marked = "<!-- readme-check: tools -->\n```sh\n"
    mutations = {
        "block without a mark": readme + "\n```sh\nmake test\n```\n",
        "unknown mark": readme + "\n<!-- readme-check: maybe -->\n```sh\nmake test\n```\n",
        "shell that does not parse": readme + f"\n{marked}curl 'http://x\n```\n",
        "make target that does not exist": readme + f"\n{marked}make deploy-everything\n```\n",
        "make variable the Makefile refuses": readme + f"\n{marked}make build LAMBDA_ARCH=sparc\n```\n",
        "aws block a reader cannot tell": readme + "\n<!-- readme-check: aws -->\n```sh\nsam deploy\n```\n",
        "ci block CI does not run": readme + "\n<!-- readme-check: ci -->\n```sh\nmake bench\n```\n",
        "link to a missing heading": readme + "\nSee [nowhere](#no-such-heading).\n",
        "missing example file": readme + "\nUse examples/no-such-example.json.\n",
    }
    failed = 0
    for what, text in mutations.items():
        caught = check_all({**texts, "README.md": text})
        print(f"{'ok  ' if caught else 'MISS'} {what}" + (f": {caught[0]}" if caught else ""))
        failed += not caught
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if argv == ["--self-test"]:
        return self_test()
    texts = {f: (ROOT / f).read_text() for f in FILES}
    problems = check_all(texts)
    if argv == ["--run-tools"] and not problems:
        for file, text in texts.items():
            problems += run_tools(file, text)
    elif argv and argv != ["--run-tools"]:
        print(__doc__, file=sys.stderr)
        return 2
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if not problems:
        count = sum(len(blocks(f, t)) for f, t in texts.items())
        print(f"READMEs ok: {count} code blocks in {', '.join(FILES)}, each marked with what checks it")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
