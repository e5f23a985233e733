#!/usr/bin/env bash
# --help is the source of truth: every long option a tool (or subcommand) prints must appear in
# its man page and in its bash, zsh and fish completions, and the completions may name no option
# the tool does not have. Also: every tool prints a Usage line and answers --version.
source "$(dirname "$0")/common.sh"
checked=0
for tool in "$BIN"/gostly-*; do
  name=$(basename "$tool")
  "$tool" --help | grep -q '^Usage:' || fail "$name --help prints no Usage line"
  "$tool" --version | grep -q "^$name " || fail "$name --version does not start with its name"
  python3 - "$tool" "$SRC" <<'PY' || fail "$name: options and docs disagree (see above)"
import re, subprocess, sys, pathlib
tool, src = sys.argv[1], pathlib.Path(sys.argv[2])
name = pathlib.Path(tool).name

def help_of(args):
    return subprocess.run([tool, *args, "--help"], capture_output=True, text=True).stdout

def long_options(text):
    return set(re.findall(r"(?<![\w-])--([a-z][a-z0-9-]+)", text))

top = help_of([])
options = long_options(top)
subs = []
m = re.search(r"^Subcommands:\n((?:  .*\n?)+)", top, re.M)
if m:
    subs = [line.split()[0] for line in m.group(1).splitlines() if line.strip()]
    for sub in subs:
        options |= long_options(help_of([sub]))
options -= {"help"}
docs = {
    "man": src / "man" / f"{name}.1.scd",
    "bash": src / "completions" / "bash" / name,
    "zsh": src / "completions" / "zsh" / f"_{name}",
    "fish": src / "completions" / "fish" / f"{name}.fish",
}
bad = False
for kind, path in docs.items():
    if not path.exists():
        print(f"{name}: missing {path}"); bad = True; continue
    text = path.read_text()
    if kind == "fish":
        documented = set(re.findall(r"-l\s+([a-z][a-z0-9-]+)", text))
    else:
        documented = long_options(text)
    for opt in sorted(options - documented):
        print(f"{name}: --{opt} is in --help but not in {path.relative_to(src)}"); bad = True
    if kind != "man":
        for opt in sorted(documented - options - {"help"}):
            print(f"{name}: {path.relative_to(src)} offers --{opt}, which --help does not list"); bad = True
    for sub in subs:
        if sub not in text:
            print(f"{name}: subcommand {sub} missing from {path.relative_to(src)}"); bad = True
sys.exit(1 if bad else 0)
PY
  checked=$((checked + 1))
done
[ $checked -ge 1 ] || fail "no gostly-* tools found in $BIN"
echo "checked $checked tools"
