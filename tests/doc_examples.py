#!/usr/bin/python3
"""Writes every ```cpp block of the given markdown files into one C++ file,
which the build compiles (target finch_doc_examples), so that an example in
the README or docs/ that stops compiling fails the build.

Usage: doc_examples.py --output FILE [--part NAME ...] MARKDOWN...

One translation unit for all the blocks: one that includes Beast takes 20 to
40 s to compile, and the blocks share their headers. Each block goes into a
namespace of its own, docExample_<file>_<n> (README.md's third block:
docExample_README_3, docs/tls.md's first: docExample_docs_tls_1), and #line
directives make the compiler name the markdown file and line.

How a block is compiled:
- A block that defines `int main(` is a whole program, kept at namespace
  scope (a function named main in a namespace is legal; -Wreturn-type is off
  for it, since the real main may end without a return).
- Any other block is a list of statements: it becomes the body of a
  function, `void example()`. It may declare local types (`struct Member`)
  and variables of its own.
- `#include` lines move to the top of the file (the line stays, blank, so
  line numbers still match). <finch/finch.hpp> and a few standard headers
  (PRELUDE below) are always included, as the prose assumes.
- What a block uses but does not declare (`manager`, `io`, `root`, ...) is
  written in an HTML comment on the line just above its fence, invisible to
  readers:

      <!-- example: extern boost::asio::io_context context; -->
      <!-- example cxx20 -->
      <!-- example coroutine:
      extern finch::Socket socket;
      using namespace std::chrono_literals;
      -->

  After `example` come flags, then optionally `:` and C++ placed verbatim at
  namespace scope just before the block (in its namespace): `extern`
  declarations of the objects it assumes (unused ones cost no warning, and a
  captureless lambda in the block can name them, which it could not do with
  function parameters), declarations of the functions it calls, `using`
  lines, `#include` lines. A comment may not contain `--`. Flags:
    file       the block is declarations at namespace scope, not statements
    cxx20      compiled only in C++20 (e.g. designated initializers)
    coroutine  the statements are the body of a coroutine,
               `boost::asio::awaitable<void> example()`; compiled only where
               Asio has co_await (C++20), so not in a C++17 build
  A block without a comment compiles as is.
- A block that includes the header of an optional part (PARTS below; in the
  block or in its comment) is skipped when the build lacks that part's CMake
  target: --part names the parts that exist.
"""

import argparse
import os
import re
import sys

# Always included: the prose assumes <finch/finch.hpp>, and blocks use the
# standard library without showing its headers.
PRELUDE = ["<finch/finch.hpp>", "<chrono>", "<csignal>", "<functional>", "<future>",
           "<iostream>", "<memory>", "<string>", "<string_view>"]

# The headers of finch's optional parts, and the part (CMake target
# finch::<part>) each needs.
PARTS = {
    "finch/permessage_deflate.hpp": "compression",
    "finch/tls.hpp": "tls",
    "finch/tls_context.hpp": "tls",
    "finch/tls_transport.hpp": "tls",
    "finch/redis_backplane.hpp": "redis",
}

FLAGS = {"file", "cxx20", "coroutine"}

OPEN_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)[^`]*$")
INCLUDE = re.compile(r"^\s*#\s*include\s*[<\"](?P<header>[^>\"]+)[>\"]")
MAIN = re.compile(r"^\s*int\s+main\s*\(", re.MULTILINE)
ANNOTATION = re.compile(r"^<!--\s*example\b(?P<flags>[^:]*?)(?::(?P<preamble>.*?))?-->\s*$", re.DOTALL)
CPP_LANGUAGES = {"cpp", "c++", "cxx"}


class DocError(Exception):
    pass


class Block:
    def __init__(self, path, number, first_line, lines):
        self.path = path
        self.number = number          # 1-based among the file's C++ blocks
        self.first_line = first_line  # line of the block's first line of code
        self.lines = lines
        self.flags = set()
        self.preamble_line = 0        # line of the annotation's first line
        self.preamble = []

    def name(self):
        stem = os.path.splitext(self.path)[0]
        return "docExample_" + re.sub(r"\W", "_", stem) + "_" + str(self.number)

    def where(self):
        return f"{self.path}, block {self.number} (line {self.first_line - 1})"


def parse_annotation(path, comment_lines, first_line):
    text = "\n".join(comment_lines)
    match = ANNOTATION.match(text)
    if not match:
        raise DocError(f"{path}:{first_line}: an example annotation reads "
                       "<!-- example [flags][: declarations] -->")
    flags = set(match.group("flags").split())
    unknown = flags - FLAGS
    if unknown:
        raise DocError(f"{path}:{first_line}: unknown example flag(s) {', '.join(sorted(unknown))}; "
                       f"the flags are {', '.join(sorted(FLAGS))}")
    preamble = match.group("preamble")
    return flags, (preamble.split("\n") if preamble is not None else [])


def read_blocks(path):
    with open(path, encoding="utf-8") as file:
        lines = file.read().split("\n")
    blocks = []
    used_annotations = set()
    fenced = set()
    index = 0
    while index < len(lines):
        match = OPEN_FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        indent, fence, info = match.group("indent"), match.group("fence"), match.group("info")
        close = re.compile("^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
        end = index + 1
        while end < len(lines) and not close.match(lines[end]):
            end += 1
        fenced.update(range(index, end + 1))
        if info.lower() in CPP_LANGUAGES:
            code = [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in lines[index + 1:end]]
            block = Block(path, len(blocks) + 1, index + 2, code)
            # An annotation is the HTML comment that ends on the line just above the fence.
            above = index - 1
            if above >= 0 and lines[above].rstrip().endswith("-->"):
                start = above
                while start > 0 and "<!--" not in lines[start]:
                    start -= 1
                comment = [line.strip() for line in lines[start:above + 1]]
                if re.match(r"<!--\s*example\b", comment[0]):
                    block.flags, block.preamble = parse_annotation(path, comment, start + 1)
                    block.preamble_line = start + 1
                    used_annotations.add(start)
            blocks.append(block)
        index = end + 1
    for number, line in enumerate(lines):
        if re.match(r"\s*<!--\s*example\b", line) and number not in used_annotations | fenced:
            raise DocError(f"{path}:{number + 1}: an example annotation must end on the line just above "
                           "a ```cpp fence")
    return blocks


def required_parts(block):
    headers = [m.group("header") for m in map(INCLUDE.match, block.preamble + block.lines) if m]
    return sorted({PARTS[h] for h in headers if h in PARTS})


class Output:
    def __init__(self, path):
        self.path = path
        self.lines = []

    def add(self, *lines):
        self.lines.extend(lines)

    def at(self, path, line):
        """The lines added next are reported as `path`'s, from `line` on."""
        self.drop_line_directive()
        self.add(f'#line {line} "{os.path.abspath(path)}"')

    def back(self):
        """The lines added next are reported as the generated file's own."""
        self.drop_line_directive()
        self.add(f'#line {len(self.lines) + 2} "{self.path}"')

    def drop_line_directive(self):
        # A #line directly followed by another one says nothing.
        if self.lines and self.lines[-1].startswith("#line "):
            self.lines.pop()


def hoist(lines, first_line, path, includes):
    """Takes the #include lines out of `lines` (blank lines instead) into `includes`."""
    kept = []
    for offset, line in enumerate(lines):
        match = INCLUDE.match(line)
        if match:
            if "<" + match.group("header") + ">" not in PRELUDE:
                includes.setdefault(match.group("header"), (line.strip(), path, first_line + offset))
            kept.append("")
        else:
            kept.append(line)
    return kept


def generate(markdown_files, parts, output_path):
    blocks = [block for path in markdown_files for block in read_blocks(path)]
    includes = {}            # header -> (its include line, markdown file, line)
    coroutine_includes = {}  # the same, for coroutine blocks only
    body = Output(output_path)
    compiled, skipped = [], []
    for block in blocks:
        missing = [part for part in required_parts(block) if part not in parts]
        if missing:
            skipped.append(f"{block.where()}: needs finch::{', finch::'.join(missing)}, not in this build")
            continue
        compiled.append(block)
        target = coroutine_includes if "coroutine" in block.flags else includes
        preamble = hoist(block.preamble, block.preamble_line, block.path, target)
        code = hoist(block.lines, block.first_line, block.path, target)
        program = MAIN.search("\n".join(code)) is not None
        body.add("", f"// {block.where()}")
        if "cxx20" in block.flags:
            body.add("#if __cplusplus >= 202002L")
        if "coroutine" in block.flags:
            body.add("#if defined(BOOST_ASIO_HAS_CO_AWAIT)")
        body.add(f"namespace {block.name()} {{")
        if any(line.strip() for line in preamble):
            body.at(block.path, block.preamble_line)
            body.add(*preamble)
            body.back()
        if program or "file" in block.flags:
            if program:
                body.add("#pragma GCC diagnostic push", '#pragma GCC diagnostic ignored "-Wreturn-type"')
            body.at(block.path, block.first_line)
            body.add(*code)
            body.back()
            if program:
                body.add("#pragma GCC diagnostic pop")
        else:
            result = "boost::asio::awaitable<void>" if "coroutine" in block.flags else "void"
            body.add(f"{result} example()", "{")
            body.at(block.path, block.first_line)
            body.add(*code)
            body.back()
            if "coroutine" in block.flags:
                body.add("    co_return;")
            body.add("}")
        body.add(f"}}  // namespace {block.name()}")
        if "coroutine" in block.flags:
            body.add("#endif")
        if "cxx20" in block.flags:
            body.add("#endif")

    out = Output(output_path)
    out.add("// Generated by tests/doc_examples.py from the C++ blocks of the markdown files",
            "// below: edit those, not this file.")
    for path in markdown_files:
        out.add(f"//   {path}")
    out.add(f"// {len(compiled)} blocks compiled, {len(skipped)} skipped.")
    for reason in skipped:
        out.add(f"// Skipped: {reason}")
    out.add("")
    out.add(*[f"#include {header}" for header in PRELUDE])
    for line, path, number in includes.values():
        out.at(path, number)
        out.add(line)
    if coroutine_includes or any("coroutine" in block.flags for block in compiled):
        out.back()
        out.add("#if defined(BOOST_ASIO_HAS_CO_AWAIT)",
                "#include <boost/asio/awaitable.hpp>",
                "#include <boost/asio/use_awaitable.hpp>")
        for line, path, number in coroutine_includes.values():
            out.at(path, number)
            out.add(line)
            out.back()
        out.add("#endif")
    out.back()
    out.add("",
            "// An example may show a callback's parameters, or a variable, that only the",
            "// reader's own code would go on to use.",
            '#pragma GCC diagnostic ignored "-Wunused-parameter"',
            '#pragma GCC diagnostic ignored "-Wunused-variable"',
            '#pragma GCC diagnostic ignored "-Wunused-but-set-variable"')
    # The body's own #line directives count from its first line; shift them.
    shift = len(out.lines)
    for line in body.lines:
        match = re.match(r'#line (\d+) "' + re.escape(output_path) + '"$', line)
        out.add(f'#line {int(match.group(1)) + shift} "{output_path}"' if match else line)
    out.add("")

    text = "\n".join(out.lines)
    # Written only when it changes: editing a page without C++ blocks, or the
    # prose below a page's last one, then recompiles nothing.
    try:
        with open(output_path, encoding="utf-8") as file:
            if file.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(output_path, "w", encoding="utf-8") as file:
        file.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("--part", action="append", default=[], choices=sorted(set(PARTS.values())))
    parser.add_argument("markdown", nargs="+")
    arguments = parser.parse_args()
    try:
        generate(arguments.markdown, set(arguments.part), os.path.abspath(arguments.output))
    except DocError as error:
        print(f"{error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
