#!/usr/bin/python3
"""Judges an Autobahn|Testsuite report and summarises it; scripts/autobahn.sh calls it.

    /usr/bin/python3 scripts/autobahn_report.py --out DIR --agent NAME [--compare NAME] [...]

Reads DIR/reports/servers/index.json (one entry per agent and case: behavior,
behaviorClose, duration in ms), prints per agent the counts by behavior and by
behaviorClose, the cases that are neither OK nor INFORMATIONAL, and the
durations of the 9.*, 12.* and 13.* groups side by side, and writes
DIR/summary.json (for tools) and DIR/summary.md (the tables of
docs/conformance.md, filled in). Exits 0 only when every case of the judged
agent (--agent) is OK or INFORMATIONAL in both behavior and behaviorClose
(cases 12 and 13: OK in both); the compared agent is reported, never judged.
It can be run again on a report already there, to reprint or rewrite the summary.
"""

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

# NON-STRICT and UNIMPLEMENTED fail as well: the first is a deviation the
# suite tolerates but a conformant server does not need, the second an
# extension (permessage-deflate, cases 12 and 13) offered and not negotiated.
ACCEPTED = ("OK", "INFORMATIONAL")
# Cases 12 and 13 (permessage-deflate) end OK, UNIMPLEMENTED (not negotiated)
# or FAILED: the suite has nothing to leave to the implementation there, so
# anything but OK, in either field, is a failure.
STRICT = ("12.", "13.")
# Every result the suite gives, in the order of the tables; each field has its
# usual ones listed even at 0, so that tables of different runs line up.
RESULTS = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "WRONG CODE", "UNCLEAN", "FAILED BY CLIENT", "FAILED")
USUAL = {
    "behavior": ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"),
    "behaviorClose": ("OK", "INFORMATIONAL", "WRONG CODE", "UNCLEAN", "FAILED"),
}

# What each group of the timed cases sends, for the tables: the performance
# cases, and permessage-deflate's (1000 messages per case, of 16 B to 128 KiB,
# the last 8 sizes auto-fragmented; 12.* one data set each with the client's
# default offer, "permessage-deflate; client_no_context_takeover;
# client_max_window_bits", 13.* the JSON file with that offer and more).
GROUPS = {
    "9.1": "text message, 64 KiB to 16 MiB",
    "9.2": "binary message, 64 KiB to 16 MiB",
    "9.3": "4 MiB text in fragments of 64 B to 4 MiB",
    "9.4": "4 MiB binary in fragments of 64 B to 4 MiB",
    "9.5": "1 MiB text written in chunks of 64 B to 2 KiB",
    "9.6": "1 MiB binary written in chunks of 64 B to 2 KiB",
    "9.7": "1000 text round trips per case, 0 B to 4 KiB",
    "9.8": "1000 binary round trips per case, 0 B to 4 KiB",
    "12.1": "JSON text",
    "12.2": "bitmap picture, binary",
    "12.3": "German prose, sent as binary",
    "12.4": "HTML text",
    "12.5": "PDF, binary",
    "13.1": "JSON, the default offer",
    "13.2": "JSON, + server_no_context_takeover",
    "13.3": "JSON, + server_max_window_bits=9",
    "13.4": "JSON, + server_max_window_bits=15",
    "13.5": "JSON, + server_no_context_takeover; server_max_window_bits=9",
    "13.6": "JSON, + server_no_context_takeover; server_max_window_bits=15",
    "13.7": "JSON, three offers: 13.5's, 13.2's, the default",
}
# The families of groups, each with a table and a total of its own.
FAMILIES = ("9", "12", "13")


def family(group):
    return group.split(".")[0]


def accepted(case, result):
    return result == "OK" if case.startswith(STRICT) else result in ACCEPTED


def case_key(case):
    return tuple(int(part) for part in case.split("."))


def summarise(cases):
    """Counts, failures and 9.* durations of one agent's cases."""
    ordered = sorted(cases, key=case_key)
    failures = [
        {"case": case, "behavior": cases[case]["behavior"], "behaviorClose": cases[case]["behaviorClose"]}
        for case in ordered
        if not accepted(case, cases[case]["behavior"]) or not accepted(case, cases[case]["behaviorClose"])
    ]
    # Not a failure, but worth a look: the suite could not judge these.
    informational = [
        case
        for case in ordered
        if "INFORMATIONAL" in (cases[case]["behavior"], cases[case]["behaviorClose"])
        and case not in {failure["case"] for failure in failures}
    ]
    durations = {}
    for case in ordered:
        group = ".".join(case.split(".")[:2])
        if group in GROUPS:
            durations[group] = durations.get(group, 0) + cases[case]["duration"]
    totals = {}
    for group, ms in durations.items():
        totals[family(group)] = totals.get(family(group), 0) + ms
    return {
        "cases": len(cases),
        "behavior": dict(Counter(result["behavior"] for result in cases.values())),
        "behaviorClose": dict(Counter(result["behaviorClose"] for result in cases.values())),
        "failures": failures,
        "informational": informational,
        "durationsMs": durations,
        "durationTotalsMs": totals,
    }


def ordered_results(names):
    # The suite's order first, then anything a later version might add.
    return [name for name in RESULTS if name in names] + sorted(set(names) - set(RESULTS))


def counts_line(counts):
    return ", ".join(f"{name} {counts[name]}" for name in ordered_results(counts)) or "none"


def markdown(summary, names, labels):
    """The result tables of docs/conformance.md, one column per agent."""
    agents = [summary["agents"][name] for name in names]
    header = "| | " + " | ".join(labels) + " |\n|---|" + "---:|" * len(names) + "\n"
    lines = [
        f"Autobahn|Testsuite {summary['suiteVersion']}, cases `{summary['cases']}`, "
        f"{summary['date']}, commit `{summary['commit'][:12]}`"
        + (" with uncommitted changes" if summary["dirty"] else "")
        + (f"; wstest ran for {summary['wallSeconds']} s." if summary["wallSeconds"] is not None else "."),
        "",
        header + "".join(
            f"| {field} {result} | " + " | ".join(str(agent[field].get(result, 0)) for agent in agents) + " |\n"
            for field in ("behavior", "behaviorClose")
            for result in ordered_results(set(USUAL[field]).union(*(agent[field] for agent in agents)))
        ),
    ]
    for name in FAMILIES:
        groups = sorted(
            {group for agent in agents for group in agent["durationsMs"] if family(group) == name}, key=case_key
        )
        if not groups:
            continue
        rows = "".join(
            f"| {group} {GROUPS.get(group, '')} | "
            + " | ".join(str(agent["durationsMs"].get(group, "")) for agent in agents)
            + " |\n"
            for group in groups
        )
        total = (
            f"| **{name}.\\* total** | "
            + " | ".join(f"**{agent['durationTotalsMs'].get(name, '')}**" for agent in agents)
            + " |\n"
        )
        lines += [f"{name}.\\* durations in ms, as wstest measures them:", "", header + rows + total]
    for label, agent in zip(labels, agents):
        if agent["informational"]:
            lines += [f"INFORMATIONAL for {label}: {', '.join(agent['informational'])}.", ""]
        if agent["failures"]:
            lines += [f"Not OK or INFORMATIONAL for {label} (behavior / behaviorClose):", ""]
            lines += [f"- {f['case']}: {f['behavior']} / {f['behaviorClose']}" for f in agent["failures"]] + [""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="the folder holding reports/servers/index.json")
    parser.add_argument("--agent", required=True, help="the judged agent")
    parser.add_argument("--compare", help="the compared agent, reported only")
    # The run's facts; left out, they are kept from the summary already there.
    parser.add_argument("--cases", help="the cases asked for, as given to wstest")
    parser.add_argument("--suite-version")
    parser.add_argument("--date", help="when the run started, UTC")
    parser.add_argument("--commit", help="the commit of the tree the servers were built from")
    parser.add_argument("--dirty", action="store_true", default=None, help="the tree had uncommitted changes")
    parser.add_argument("--wall-seconds", type=int, help="how long wstest ran")
    parser.add_argument("--binary", action="append", default=[], metavar="AGENT=PATH", help="which binary an agent is")
    args = parser.parse_args()

    index_file = args.out / "reports" / "servers" / "index.json"
    try:
        index = json.loads(index_file.read_text())
    except (OSError, ValueError) as error:
        print(f"autobahn: no readable report: {error}", file=sys.stderr)
        return 1
    names = [args.agent] + ([args.compare] if args.compare else [])
    missing = [name for name in names if not index.get(name)]
    if missing:
        print(f"autobahn: {index_file} has no cases for {', '.join(missing)}", file=sys.stderr)
        return 1

    try:
        previous = json.loads((args.out / "summary.json").read_text())
    except (OSError, ValueError):
        previous = {}

    def fact(value, key, default):
        return value if value is not None else previous.get(key, default)

    binaries = dict(item.split("=", 1) for item in args.binary)
    for name in names:
        binaries.setdefault(name, previous.get("agents", {}).get(name, {}).get("binary", ""))
    summary = {
        "suite": "Autobahn|Testsuite",
        "suiteVersion": fact(args.suite_version, "suiteVersion", "unknown"),
        "cases": fact(args.cases, "cases", "unknown"),
        "date": fact(args.date, "date", "unknown"),
        "commit": fact(args.commit, "commit", "unknown"),
        "dirty": fact(args.dirty, "dirty", False),
        "wallSeconds": fact(args.wall_seconds, "wallSeconds", None),
        "judged": args.agent,
        "compared": args.compare,
        "agents": {},
    }
    for name in names:
        summary["agents"][name] = {"binary": binaries[name], **summarise(index[name])}
    judged = summary["agents"][args.agent]
    summary["passed"] = not judged["failures"]

    for name in names:
        agent = summary["agents"][name]
        role = "judged" if name == args.agent else "compared, not judged"
        print(f"== {name} ({role}): {agent['cases']} cases")
        print(f"   behavior       {counts_line(agent['behavior'])}")
        print(f"   behaviorClose  {counts_line(agent['behaviorClose'])}")
        if agent["informational"]:
            print(f"   INFORMATIONAL  {', '.join(agent['informational'])}")
        if agent["failures"]:
            print(f"   not OK or INFORMATIONAL ({len(agent['failures'])}):")
            for failure in agent["failures"]:
                print(f"     {failure['case']:<10} {failure['behavior']:<14} close {failure['behaviorClose']}")
    width = max(len(name) for name in names) + 2
    for fam in FAMILIES:
        groups = sorted(
            {g for name in names for g in summary["agents"][name]["durationsMs"] if family(g) == fam}, key=case_key
        )
        if not groups:
            continue
        print(f"== {fam}.* durations, ms".ljust(24) + "".join(name.rjust(width) for name in names))
        for group in groups:
            cells = "".join(str(summary["agents"][name]["durationsMs"].get(group, "-")).rjust(width) for name in names)
            print(f"   {group}".ljust(24) + cells)
        totals = "".join(str(summary["agents"][name]["durationTotalsMs"].get(fam, "-")).rjust(width) for name in names)
        print("   total".ljust(24) + totals)

    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (args.out / "summary.md").write_text(markdown(summary, names, names).rstrip("\n") + "\n")
    if summary["passed"]:
        strict = " (12 and 13: OK)" if any(case.startswith(STRICT) for case in index[args.agent]) else ""
        print(f"== PASS: all {judged['cases']} cases of {args.agent} are OK or INFORMATIONAL{strict}")
        return 0
    print(f"== FAIL: {len(judged['failures'])} of {judged['cases']} cases of {args.agent} are not OK or INFORMATIONAL")
    return 1


if __name__ == "__main__":
    sys.exit(main())
