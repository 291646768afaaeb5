#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Reads the serial log of one emulated-host run and judges it.

    harness.py lane LANE LOG --boot-rc RC [--tests-list LIST --glob GLOB]
               [--expect-check NAME]... --json OUT
        prints the lane's table, writes its results to OUT
    harness.py summary JSON...
        prints every failure again and the closing line
        "N passed, N failed, N skipped"; exit status 1 on any failure

Verdicts:
  - a "conformance" selftest passes only if it passes on khv *and* on stock
    KVM; a failure on stock KVM means the test is wrong, and counts as a
    failure. Both skipping for the same reason is a skip.
  - a "khv" selftest is judged on khv alone.
  - a selftest that did not report (hang, crash, lane cut short) fails.
  - each KHV-CHECK line (module loads, kmemleak, dmesg) is a pass or a fail;
    a check named with --expect-check that did not report fails.
  - without --tests-list (the packaging lane) there are no selftests.
  - each KUnit case is a pass, fail or skip.
  - the lane itself passes only if the emulated host reached KHV-END and
    powered off on its own (no timeout, no panic).
"""
import fnmatch
import json
import os
import re
import sys

RC_PASS, RC_FAIL, RC_SKIP = 0, 1, 4


def rc_status(rc):
    if rc == RC_PASS:
        return "PASS"
    if rc == RC_SKIP:
        return "SKIP"
    if rc in (124, 137, 143):
        return "TIMEOUT"
    return "FAIL"


def skip_reason(lines):
    for line in lines:
        m = re.match(r"1\.\.0 # SKIP (.*)", line)
        if m:
            return m.group(1).strip()
    return ""


def read_tests_list(path, globs, lane):
    """(name, kind) of the selftests that run on this lane, in order."""
    tests = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            words = line.split()
            name, kind = words[:2]
            lanes = words[3].split(",") if len(words) > 3 else [lane]
            if lane in lanes and any(fnmatch.fnmatchcase(name, g) for g in globs):
                tests.append((name, kind))
    return tests


def parse_log(path):
    with open(path, errors="replace") as f:
        text = f.read().replace("\r", "")
    lines = text.split("\n")
    runs = {}  # (target, name) -> (status, lines)
    checks = []  # (name, ok, detail)
    kunit = []  # (suite.case, status)
    began = ended = panicked = False
    cur = None
    suite, suite_indent = None, 0
    in_kunit = False
    for line in lines:
        if "KHV-BEGIN" in line:
            began = True
        if re.search(r"Kernel panic - not syncing", line):
            panicked = True
        m = re.search(r"KHV-TEST-BEGIN (\S+) (\S+)", line)
        if m:
            cur = (m.group(1), m.group(2), [])
            continue
        m = re.search(r"KHV-TEST-END (\S+) (\S+) rc=(\d+)", line)
        if m and cur and cur[:2] == (m.group(1), m.group(2)):
            runs[cur[:2]] = (rc_status(int(m.group(3))), cur[2])
            cur = None
            continue
        if cur is not None:
            cur[2].append(line)
            continue
        m = re.search(r"KHV-CHECK (\S+) (ok|fail)\s*(.*)", line)
        if m:
            checks.append((m.group(1), m.group(2) == "ok", m.group(3)))
            continue
        m = re.search(r"KHV-KUNIT-BEGIN (\S+)", line)
        if m:
            in_kunit, suite, suite_indent = True, None, 0
            kmod, kstart = m.group(1), len(kunit)
            continue
        if "KHV-KUNIT-END" in line:
            in_kunit = False
            if len(kunit) == kstart:
                # A suite module that reported nothing (crashed, or empty).
                kunit.append((f"{kmod}: no results", "FAIL"))
            continue
        if in_kunit:
            # KTAP (Linux 6.1): "# Subtest: <suite>" and the suite's case
            # results share one indentation; deeper lines are parameters of a
            # case (summed up in the case's own result line).
            m = re.match(r"(\s*)# Subtest: (\S+)", line)
            if m and (suite is None or len(m.group(1)) <= suite_indent):
                suite, suite_indent = m.group(2), len(m.group(1))
                continue
            m = re.match(r"(\s*)(not ok|ok) \d+ (?:- )?(.*?)\s*(#\s*SKIP.*)?$", line)
            if m and suite and len(m.group(1)) == suite_indent:
                st = "PASS" if m.group(2) == "ok" else "FAIL"
                if m.group(4):
                    st = "SKIP"
                kunit.append((f"{suite}.{m.group(3)}", st))
            continue
        if "KHV-END" in line:
            ended = True
    return dict(runs=runs, checks=checks, kunit=kunit, began=began,
                ended=ended, panicked=panicked, cut=cur)


def judge_lane(lane, log, boot_rc, tests, want_kunit, expect_checks=()):
    p = parse_log(log)
    results = []  # dicts: lane, item, kvm, khv, verdict, detail

    def add(item, verdict, kvm="-", khv="-", detail=""):
        results.append(dict(lane=lane, item=item, kvm=kvm, khv=khv,
                            verdict=verdict, detail=detail))

    for name, kind in tests:
        k = p["runs"].get(("khv", name))
        o = p["runs"].get(("kvm", name)) if kind == "conformance" else None
        khv = k[0] if k else "NOT RUN"
        kvm = (o[0] if o else "NOT RUN") if kind == "conformance" else "-"
        if kind != "conformance":
            verdict = khv if khv in ("PASS", "SKIP") else "FAIL"
            detail = "" if verdict != "FAIL" else f"khv: {khv}"
        elif kvm == "PASS" and khv == "PASS":
            verdict, detail = "PASS", ""
        elif kvm == "SKIP" and khv == "SKIP" and \
                skip_reason(o[1]) == skip_reason(k[1]):
            verdict, detail = "SKIP", skip_reason(k[1])
        elif kvm not in ("PASS", "SKIP"):
            verdict, detail = "FAIL", f"fails on stock KVM ({kvm}): wrong test"
        else:
            verdict, detail = "FAIL", f"khv {khv} but stock KVM {kvm}"
        if verdict == "FAIL":
            for line in (k[1] if k else []) + (o[1] if o else []):
                if line.startswith("not ok") or line.startswith("Bail out") or \
                        line.startswith("#  "):
                    detail += f"\n      {line}"
        add(name, verdict, kvm, khv, detail)

    for name, ok, detail in p["checks"]:
        add(f"check:{name}", "PASS" if ok else "FAIL", detail=detail)
    reported = {name for name, _, _ in p["checks"]}
    for name in expect_checks:
        if name not in reported:
            add(f"check:{name}", "FAIL", detail="did not report")
    for case, st in p["kunit"]:
        add(f"kunit:{case}", st)
    if want_kunit and not p["kunit"]:
        add("kunit", "FAIL", detail="no KUnit results in the log")

    if p["panicked"]:
        why = "host kernel panic"
    elif boot_rc == 124:
        why = "timeout (hang)"
    elif not p["began"]:
        why = "the emulated host never started the tests"
    elif not p["ended"]:
        why = "the run was cut short" + (
            f" during {p['cut'][0]}/{p['cut'][1]}" if p["cut"] else "")
    elif boot_rc != 0:
        why = f"emulator exit status {boot_rc}"
    else:
        why = ""
    add("lane-complete", "FAIL" if why else "PASS", detail=why)
    return results


def print_table(results):
    if not results:
        return
    w = max(len(r["item"]) for r in results)
    print(f"  {'test':<{w}}  {'stock KVM':<9}  {'khv':<9}  verdict")
    for r in results:
        print(f"  {r['item']:<{w}}  {r['kvm']:<9}  {r['khv']:<9}  {r['verdict']}")
        if r["detail"] and r["verdict"] != "PASS":
            print(f"      {r['detail']}")


def main(argv):
    if len(argv) >= 2 and argv[1] == "lane":
        import argparse
        ap = argparse.ArgumentParser()
        ap.add_argument("cmd")
        ap.add_argument("lane")
        ap.add_argument("log")
        ap.add_argument("--boot-rc", type=int, required=True)
        ap.add_argument("--tests-list")
        ap.add_argument("--glob", default="*")
        ap.add_argument("--kunit", action="store_true")
        ap.add_argument("--expect-check", action="append", default=[])
        ap.add_argument("--json", required=True)
        a = ap.parse_args(argv[1:])
        tests = read_tests_list(a.tests_list, a.glob.split(), a.lane) \
            if a.tests_list else []
        res = judge_lane(a.lane, a.log, a.boot_rc, tests, a.kunit,
                         a.expect_check)
        print(f"== lane {a.lane} ==")
        print_table(res)
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
        return 0
    if len(argv) >= 2 and argv[1] == "summary":
        res = []
        for path in argv[2:]:
            try:
                with open(path) as f:
                    res += json.load(f)
            except (OSError, ValueError) as e:
                res.append({"lane": os.path.basename(path), "item": "results",
                            "kvm": "-", "khv": "-", "verdict": "FAIL",
                            "detail": f"no results: {e}"})
        fails = [r for r in res if r["verdict"] not in ("PASS", "SKIP")]
        if fails:
            print("Failures:")
            for r in fails:
                print(f"  {r['lane']}: {r['item']}: {r['detail']}")
        n = {v: sum(1 for r in res if r["verdict"] == v) for v in ("PASS", "SKIP")}
        print(f"{n['PASS']} passed, {len(fails)} failed, {n['SKIP']} skipped")
        return 1 if fails else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
