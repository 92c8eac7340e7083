#!/usr/bin/env python3
"""Checks that every name declared in include/finch follows finch's naming rule.

The rule (Finch's, docs/architecture.md "Naming"): types, type aliases and
class templates PascalCase; functions, variables, constants, enumerators and
namespaces camelCase; macros FINCH_UPPER_CASE. It holds for the public
headers and for detail/ and impl/ alike.

Doxygen parses the headers (every entity, documented or not, private members
included) into XML; this script reads the XML, so it sees declarations as a
C++ parser does, not as a regular expression would guess them.

The exceptions are names that another library's protocol fixes, each listed in
EXCEPTIONS with the reason, and names marked @deprecated: the old names kept
for one release.

Usage: check_names.py [OUT_DIR]   (default build/names). Exits 77 (skipped)
when doxygen is missing, unless CI=true.
"""

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")
MACRO = re.compile(r"^FINCH_[A-Z0-9_]+$")

# (kind, name) -> why another library fixes the name.
EXCEPTIONS = {
    ("typedef", "executor_type"): "Asio's associated_executor looks an I/O object's executor up by this name",
    ("function", "get_executor"): "Asio's associated_executor looks an I/O object's executor up by this name",
    ("struct", "is_error_code_enum"): "Boost.System's trait, specialized for finch's error enums",
    ("struct", "is_error_condition_enum"): "Boost.System's trait, specialized for finch's error enums",
    ("function", "make_error_code"): "Boost.System finds an error enum's conversion by this name (ADL)",
}

# nlohmann/json's SAX interface: the reader of binary envelopes implements it.
for sax in ("null", "boolean", "number_integer", "number_unsigned", "number_float", "string", "binary",
            "start_object", "key", "end_object", "start_array", "end_array", "parse_error"):
    EXCEPTIONS[("function", sax)] = "nlohmann/json's SAX interface (json_sax), which a reader implements"
# nlohmann/json's output adapter interface: the binary envelope writer's sink.
for adapter in ("write_character", "write_characters"):
    EXCEPTIONS[("function", adapter)] = "nlohmann/json's output_adapter_protocol, which a sink implements"


def doxygen_config(out: Path) -> str:
    return "\n".join([
        f"OUTPUT_DIRECTORY = {out}",
        f"INPUT = {ROOT / 'include' / 'finch'}",
        "FILE_PATTERNS = *.hpp",
        "RECURSIVE = YES",
        "EXTRACT_ALL = YES",
        "EXTRACT_PRIVATE = YES",
        "EXTRACT_STATIC = YES",
        "EXTRACT_LOCAL_CLASSES = YES",
        "EXTRACT_ANON_NSPACES = YES",
        "ENABLE_PREPROCESSING = YES",
        "MACRO_EXPANSION = NO",
        "BUILTIN_STL_SUPPORT = YES",
        "GENERATE_HTML = NO",
        "GENERATE_LATEX = NO",
        "GENERATE_XML = YES",
        "XML_PROGRAMLISTING = NO",
        "QUIET = YES",
        "WARNINGS = NO",
        f"WARN_LOGFILE = {out / 'warnings.txt'}",
        "WARN_IF_UNDOCUMENTED = NO",
        "",
    ])


def deprecated(element) -> bool:
    # The element's own description only: an enum is not deprecated because
    # some of its enumerators are.
    return any(section.get("id", "").startswith("deprecated")
               for description in ("briefdescription", "detaileddescription")
               for own_description in element.findall(description)
               for section in own_description.iter("xrefsect"))


def where(element) -> str:
    location = element.find("location")
    if location is None and element.tag == "enumvalue":
        return "enumerator"
    if location is None:
        return "?"
    path = Path(location.get("file", "?"))
    try:
        path = path.relative_to(ROOT)
    except ValueError:
        pass
    return f"{path}:{location.get('line', '?')}"


def last_component(qualified: str) -> str:
    # "finch::detail::Session< T >" -> "Session"
    name = re.sub(r"<.*>$", "", qualified).strip()
    return name.split("::")[-1]


def own(qualified: str) -> bool:
    return qualified == "finch" or qualified.startswith("finch::")


def check(xml_dir: Path) -> list:
    problems = []
    seen = set()

    def judge(kind: str, name: str, element, pattern, rule: str):
        if not name or name.startswith("@"):  # anonymous
            return
        if (kind, name) in EXCEPTIONS or deprecated(element):
            return
        if pattern.match(name.rstrip("_")):
            return
        key = (kind, name, where(element))
        if key not in seen:
            seen.add(key)
            problems.append(f"{where(element)}: {kind} '{name}' is not {rule}")

    index = ElementTree.parse(xml_dir / "index.xml").getroot()
    for entry in index.findall("compound"):
        kind = entry.get("kind")
        if kind not in ("class", "struct", "union", "namespace", "file"):
            continue
        compound = ElementTree.parse(xml_dir / f"{entry.get('refid')}.xml").getroot().find("compounddef")
        qualified = compound.findtext("compoundname", "")
        if kind != "file" and not own(qualified):
            continue  # a specialization of another library's template, say
        if kind in ("class", "struct", "union"):
            name = last_component(qualified)
            judge(kind, name, compound, PASCAL, "PascalCase")
            owner = name
        elif kind == "namespace":
            judge(kind, last_component(qualified), compound, CAMEL, "camelCase")
            owner = None
        else:
            owner = None
        for member in compound.iter("memberdef"):
            member_kind = member.get("kind")
            name = member.findtext("name", "")
            if kind == "file" and member_kind != "define":
                continue  # listed again under its namespace
            if member_kind == "define":
                judge("macro", name, member, MACRO, "FINCH_UPPER_CASE")
            elif member_kind == "function":
                if name.startswith("operator") or name in (owner, f"~{owner}"):
                    continue
                judge("function", name, member, CAMEL, "camelCase")
            elif member_kind == "typedef":
                judge("typedef", name, member, PASCAL, "PascalCase")
            elif member_kind == "enum":
                judge("enum", name, member, PASCAL, "PascalCase")
                for value in member.findall("enumvalue"):
                    judge("enumerator", value.findtext("name", ""), value, CAMEL, "camelCase")
            elif member_kind == "variable":
                # Doxygen takes `friend Alias;` for a variable.
                if member.findtext("definition", "").startswith("friend "):
                    continue
                judge("variable", name, member, CAMEL, "camelCase")
    return problems


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build" / "names").resolve()
    if shutil.which("doxygen") is None:
        print("check_names: doxygen is not installed (bash scripts/install-deps.sh installs it)", file=sys.stderr)
        return 1 if os.environ.get("CI") == "true" else 77
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    subprocess.run(["doxygen", "-"], input=doxygen_config(out), text=True, check=True, cwd=ROOT)
    problems = check(out / "xml")
    for problem in problems:
        print(problem)
    if problems:
        print(f"check_names: {len(problems)} names break finch's naming rule "
              "(types PascalCase; functions, variables, enumerators camelCase)", file=sys.stderr)
        return 1
    print("check_names: every name in include/finch follows the naming rule")
    return 0


if __name__ == "__main__":
    sys.exit(main())
