#!/usr/bin/env python3
"""The README and docs/ against the repository and the real binary.

    docs_test.py links    SOURCE_DIR
    docs_test.py examples SOURCE_DIR TCPSCOPE
    docs_test.py options  SOURCE_DIR TCPSCOPE
    docs_test.py schema   SOURCE_DIR TCPSCOPE

links:    every relative link in README.md and docs/*.md names a file that exists, and an
          #anchor a heading of that file.
examples: every `tcpscope ...` line in the code blocks of the README and docs/ names a subcommand, options
          that subcommand's --help lists (with a value when they take one, none of two that
          exclude each other, what they need), a scenario that exists; and the binary's own
          parser accepts the values (the line is parsed with --help added before the
          command's `--`, which runs CLI11's validators and nothing else).
options:  every option each subcommand's --help lists is in the table of that subcommand's
          README section, and every option in the table is in its --help.
schema:   every key of the JSON `tcpscope list --json` and `tcpscope info --json` write is in
          docs/schema.md, where that record type is described (the encoders' keys are held to
          the same document by the unit test SchemaDoc.*).

Needs no root: --help, list and info only. Exit status 1 with every problem listed.
"""
import functools
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

# --- Markdown --------------------------------------------------------------------------------


def strip_code(text):
    """The text with fenced code blocks blanked (line numbers kept)."""
    out, fenced = [], False
    for line in text.split('\n'):
        if line.lstrip().startswith('```'):
            fenced = not fenced
            out.append('')
            continue
        out.append('' if fenced else line)
    return '\n'.join(out)


def code_blocks(text):
    """Each fenced code block's lines, with the line number of each."""
    blocks, current, start = [], None, 0
    for n, line in enumerate(text.split('\n'), 1):
        if line.lstrip().startswith('```'):
            if current is None:
                current, start = [], n
            else:
                blocks.append(current)
                current = None
            continue
        if current is not None:
            current.append((n, line))
    return blocks


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation but - and _ dropped, spaces to -."""
    s = heading.strip().lower()
    s = re.sub(r'[^\w\- ]', '', s)
    return s.replace(' ', '-')


def anchors(text):
    found, seen = set(), {}
    for line in strip_code(text).split('\n'):
        m = re.match(r'^(#{1,6})\s+(.*?)\s*#*\s*$', line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f'{base}-{n}')
    return found


def markdown_files(src):
    files = [os.path.join(src, 'README.md')]
    docs = os.path.join(src, 'docs')
    if os.path.isdir(docs):
        files += sorted(os.path.join(docs, f) for f in os.listdir(docs) if f.endswith('.md'))
    return files


def check_links(src):
    problems = []
    for path in markdown_files(src):
        text = open(path, encoding='utf-8').read()
        prose = strip_code(text)
        # Inline code is not a link either: `[x](y)` in backticks shows a link, it is not one.
        prose = re.sub(r'`[^`\n]*`', '', prose)
        for n, line in enumerate(prose.split('\n'), 1):
            for target in re.findall(r'\]\(([^)\s]+)(?:\s+"[^"]*")?\)', line):
                if re.match(r'^[a-z][a-z0-9+.-]*:', target):  # http:, https:, mailto:
                    continue
                where = f'{os.path.relpath(path, src)}:{n}'
                file_part, _, anchor = target.partition('#')
                target_path = (os.path.normpath(os.path.join(os.path.dirname(path), file_part))
                               if file_part else path)
                if not os.path.exists(target_path):
                    problems.append(f'{where}: link to {target}: {file_part} does not exist')
                    continue
                if not os.path.realpath(target_path).startswith(os.path.realpath(src) + os.sep):
                    problems.append(f'{where}: link to {target} leaves the repository')
                    continue
                if anchor:
                    if not target_path.endswith('.md'):
                        problems.append(f'{where}: link to {target}: an anchor in a file that is not markdown')
                    elif anchor not in anchors(open(target_path, encoding='utf-8').read()):
                        problems.append(f'{where}: link to {target}: no heading #{anchor} in '
                                        f'{os.path.relpath(target_path, src)}')
    # A clone has no ../shared/: nothing in the tree may send a reader there.
    for root, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if not d.startswith(('.', 'build'))]
        for name in files:
            if not name.endswith(('.md', '.txt', '.h', '.cpp', '.c', '.cmake', '.py', '.sh')):
                continue
            path = os.path.join(root, name)
            try:
                text = open(path, encoding='utf-8').read()
            except (UnicodeDecodeError, OSError):
                continue
            if 'shared/SCENARIOS.md' in text and os.path.realpath(path) != os.path.realpath(__file__):
                problems.append(f'{os.path.relpath(path, src)}: points to shared/SCENARIOS.md, '
                                'outside the repository (docs/scenarios.md describes the scenarios)')
    return problems


# --- The CLI's own help ----------------------------------------------------------------------


class Option:
    def __init__(self, name, takes_value, excludes, needs, value_type=''):
        self.name, self.takes_value, self.excludes, self.needs = name, takes_value, excludes, needs
        self.value_type = value_type  # as --help shows it: TEXT:FILE, FLOAT:SECONDS, ...


def run(binary, *args, cwd=None):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60, cwd=cwd)


@functools.lru_cache(maxsize=None)
def subcommands(binary):
    out = run(binary, '--help').stdout
    names, section = [], False
    for line in out.split('\n'):
        if line.startswith('Subcommands:'):
            section = True
            continue
        m = re.match(r'^  (\S+)\s', line)
        if section and m:
            names.append(m.group(1))
    if not names:
        raise SystemExit(f'{binary} --help lists no subcommand:\n{out}')
    return names


@functools.lru_cache(maxsize=None)
def options(binary, sub):
    """The options `tcpscope SUB --help` lists, --help itself left out."""
    result = run(binary, sub, '--help')
    if result.returncode != 0:
        raise SystemExit(f'{binary} {sub} --help: exit {result.returncode}\n{result.stderr}')
    found, section = {}, False
    for line in result.stdout.split('\n'):
        if re.match(r'^\S', line):
            section = line.startswith('Options:')
            continue
        m = re.match(r'^  (-\S+)(.*)$', line)
        if not section or not m:
            continue
        head = re.split(r'\s{2,}', (m.group(1) + m.group(2)).strip(), maxsplit=1)[0]
        words = head.split()
        names = [n for n in words[0].split(',') if n.startswith('--')]
        if not names or names[0] == '--help':
            continue
        rest = words[1:]
        takes_value = bool(rest) and rest[0] not in ('Excludes:', 'Needs:')
        excludes, needs, mode = [], [], None
        for w in rest:
            if w in ('Excludes:', 'Needs:'):
                mode = w
            elif mode == 'Excludes:':
                excludes.append(w)
            elif mode == 'Needs:':
                needs.append(w)
        found[names[0]] = Option(names[0], takes_value, excludes, needs, rest[0] if takes_value else '')
    return found


@functools.lru_cache(maxsize=None)
def scenario_names(binary):
    out = run(binary, 'list', '--json').stdout
    return {json.loads(line)['name'] for line in out.split('\n') if line.strip()}


# --- The README's examples -------------------------------------------------------------------


def command_lines(src):
    """(file, line number, argv) of each tcpscope command line in the code blocks of the README
    and docs/ (a line ending in a backslash goes on on the next)."""
    lines = []
    for path in markdown_files(src):
        text = open(path, encoding='utf-8').read()
        for block in code_blocks(text):
            joined, first = '', 0
            for n, line in block:
                if not joined:
                    first = n
                joined += line.rstrip()
                if joined.endswith('\\'):
                    joined = joined[:-1] + ' '
                    continue
                s = re.sub(r'^\$\s+', '', joined.strip())
                s = re.sub(r'^sudo\s+', '', s)
                joined = ''
                if s.startswith('tcpscope '):
                    lines.append((os.path.relpath(path, src), first, shlex.split(s, comments=True)))
    return lines


def check_examples(src, binary):
    problems = []
    subs = subcommands(binary)
    scenarios = scenario_names(binary)
    examples = command_lines(src)
    if sum(1 for f, _, _ in examples if f == 'README.md') < 5:
        problems.append('README.md: fewer than 5 tcpscope command lines found in code blocks')
    for f, n, argv in examples:
        where = f'{f}:{n}: {" ".join(argv)}'
        if len(argv) < 2 or argv[1] not in subs:
            problems.append(f'{where}: no subcommand of {subs}')
            continue
        sub = argv[1]
        opts = options(binary, sub)
        args = argv[2:]
        command = []
        if '--' in args:
            i = args.index('--')
            args, command = args[:i], args[i + 1:]
        used, positionals, files, i = [], [], [], 0
        while i < len(args):
            a = args[i]
            if a.startswith('--'):
                name, eq, _ = a.partition('=')
                opt = opts.get(name)
                if not opt:
                    problems.append(f'{where}: {name} is not an option of `tcpscope {sub}`')
                elif opt.takes_value and not eq:
                    if i + 1 >= len(args) or args[i + 1].startswith('--'):
                        problems.append(f'{where}: {name} needs a value')
                    else:
                        i += 1
                        if opt.value_type.endswith(':FILE'):
                            files.append(args[i])
                used.append(name)
            else:
                positionals.append(a)
            i += 1
        for name in used:
            opt = opts.get(name)
            if not opt:
                continue
            for other in opt.excludes:
                if other in used or (other == 'name' and positionals):
                    problems.append(f'{where}: {name} excludes {other}')
            for other in opt.needs:
                if other not in used:
                    problems.append(f'{where}: {name} needs {other}')
        if sub == 'run':
            if len(positionals) > 1:
                problems.append(f'{where}: more than one scenario')
            for p in positionals:
                if p not in scenarios:
                    problems.append(f'{where}: no scenario named {p}')
            if not positionals and '--all' not in used:
                problems.append(f'{where}: neither a scenario nor --all')
        elif sub == 'exec':
            if positionals:
                problems.append(f'{where}: the command goes after --')
            if not command:
                problems.append(f'{where}: no command after --')
        elif positionals:
            problems.append(f'{where}: `tcpscope {sub}` takes no argument {positionals}')
        # The binary's own parser and validators on the values (ports, durations, kinds).
        # An input file an example names (a web configuration) is made, empty, in a scratch
        # directory: the parser checks that it exists, and the example's is the reader's own.
        argv_checked = [sub] + argv[2:2 + len(args)] + ['--help']
        with tempfile.TemporaryDirectory() as scratch:
            for name in files:
                if not os.path.isabs(name):
                    open(os.path.join(scratch, name), 'w').close()
            result = run(binary, *argv_checked, cwd=scratch)
        if result.returncode != 0:
            problems.append(f'{where}: the binary refuses it (exit {result.returncode}): '
                            f'{result.stderr.strip()}')
    return problems


# --- The option tables -----------------------------------------------------------------------


def readme_sections(src):
    """Heading -> the text below it, up to the next heading of the same or a higher level."""
    lines = strip_code(open(os.path.join(src, 'README.md'), encoding='utf-8').read()).split('\n')
    heads = [(i, len(m.group(1)), m.group(2)) for i, l in enumerate(lines)
             for m in [re.match(r'^(#{1,6})\s+(.*)$', l)] if m]
    sections = []
    for k, (i, level, title) in enumerate(heads):
        end = next((j for j, lv, _ in heads[k + 1:] if lv <= level), len(lines))
        sections.append((title, lines[i + 1:end]))
    return sections


def first_table(lines):
    rows, started = [], False
    for line in lines:
        if line.startswith('|'):
            started = True
            rows.append(line)
        elif started:
            break
    return rows


def check_options(src, binary):
    problems = []
    sections = readme_sections(src)
    for sub in subcommands(binary):
        mine = [lines for title, lines in sections if re.match(rf'^`tcpscope {sub}`', title)]
        if not mine:
            problems.append(f'README.md: no section titled `tcpscope {sub}`')
            continue
        table = first_table(mine[0])
        if not table:
            problems.append(f'README.md: the section `tcpscope {sub}` has no table of options')
            continue
        first_cells = ' '.join(row.split('|')[1] for row in table[2:])
        in_table = set(re.findall(r'`(--[\w.-]+)`', first_cells))
        in_help = set(options(binary, sub))
        for name in sorted(in_help - in_table):
            problems.append(f'README.md: `tcpscope {sub}`: {name} (in --help) is not in its table')
        for name in sorted(in_table - in_help):
            problems.append(f'README.md: `tcpscope {sub}`: {name} is in its table, not in --help')
    return problems


# --- The schema of what the binary writes by itself ------------------------------------------


def schema_blocks(src):
    """(types, text) of docs/schema.md: a table row is about the types named in its first cell,
    a section about the types named in its heading; the rest is about every type."""
    path = os.path.join(src, 'docs', 'schema.md')
    if not os.path.exists(path):
        raise SystemExit('docs/schema.md does not exist')
    text = strip_code(open(path, encoding='utf-8').read())
    blocks, shared, section_types = [], [], set()
    for line in text.split('\n'):
        m = re.match(r'^#{1,6}\s+(.*)$', line)
        if m:
            section_types = set(re.findall(r'`([a-z_]+)`', m.group(1)))
            continue
        if line.startswith('| `'):
            types = set(re.findall(r'`([a-z_]+)`', line.split('|')[1]))
            blocks.append((types, line))
        elif section_types:
            blocks.append((section_types, line))
        else:
            shared.append(line)
    return blocks, '\n'.join(shared)


MAP_KEYS = {'counts', 'tracepoints'}  # objects keyed by names that are values, not keys


def keys_of(obj, prefix=''):
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.append(prefix + k)
            if k not in MAP_KEYS:
                out += keys_of(v, prefix + k + '.')
    elif isinstance(obj, list):
        for v in obj:
            out += keys_of(v, prefix)
    return out


def undocumented(line_obj, blocks, shared):
    kind = line_obj.get('type')
    mine = '\n'.join(text for types, text in blocks if kind in types)
    missing = []
    if not mine:
        missing.append(f'type {kind}: no row or section of docs/schema.md')
    for path in keys_of(line_obj):
        key = path.rsplit('.', 1)[-1]
        if f'`{key}`' not in mine and f'`{key}`' not in shared:
            missing.append(f'type {kind}: key {path}')
    return missing


def check_schema(src, binary):
    blocks, shared = schema_blocks(src)
    problems = set()
    outputs = [run(binary, 'list', '--json').stdout, run(binary, 'info', '--json').stdout]
    seen = 0
    for out in outputs:
        for line in out.split('\n'):
            if not line.strip():
                continue
            seen += 1
            problems.update(undocumented(json.loads(line), blocks, shared))
    if seen < 2:
        problems.add('list --json and info --json wrote nothing')
    return sorted(problems)


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    what, src = sys.argv[1], sys.argv[2]
    binary = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None
    checks = {'links': lambda: check_links(src),
              'examples': lambda: check_examples(src, binary),
              'options': lambda: check_options(src, binary),
              'schema': lambda: check_schema(src, binary)}
    problems = checks[what]()
    for p in problems:
        print(p)
    print(f'{what}: {len(problems)} problem(s)')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
