"""Predicted against measured gain (issue 29): for each real job of the accuracy set, the
doctor's findings on the job as configured, each with the gain it predicts for its fix,
against the steps/s the fixes an expert would try measured, both from one run of
verdicts.py (its output file: medians of alternating runs, and the doctor's findings on
the job as configured; for an older file without findings, the doctor runs again here).

A finding's fix is the best of the case's fixes mapped to its rule (verdicts.CASES); its
measured gain is that fix's steps/s ÷ the job's. Within: the measured gain inside the
predicted range (5% tolerance for two runs' noise); opposite sign: the fix measured
slower by more than the tolerance where a gain was predicted. Findings whose fix no case
measures, and findings without a speed prediction (memory, unbounded), are listed apart.

Usage: python3 predictions.py --measured results/quiet.jsonl [--hostmem PATH] [--python PATH] [--only NAME] [--noisy]
Prints a Markdown table and one JSON line per finding."""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import verdicts  # noqa: E402

TOLERANCE = 0.05


def settings(arguments):
    """A fix's command line as the doctor's suggested settings."""
    found, flags = {}, list(arguments)
    for name, setting in (("--workers", "num_workers"), ("--threads", "main_num_threads")):
        if name in flags:
            found[setting] = int(flags[flags.index(name) + 1])
    if "--persistent" in flags:
        found["persistent_workers"] = 1
    return found


def agrees(suggested, fix):
    """Every value the finding suggests is the fix's (and it suggests one a fix can set)."""
    settable = {k: v for k, v in suggested.items() if k in ("num_workers", "main_num_threads", "persistent_workers")}
    return bool(settable) and all(setting in fix and fix[setting] == value for setting, value in settable.items())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hostmem", default=os.path.join(HERE, "../../.build/release/hostmem"))
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--measured", required=True, help="verdicts.py's output: the measured steps/s of each fix")
    parser.add_argument("--doctor-warmup", type=float, default=12)
    parser.add_argument("--only", action="append")
    parser.add_argument("--noisy", action="store_true", help="keep one CPU busy with a process outside the job while the doctor runs")
    args = parser.parse_args()
    neighbour = verdicts.start_neighbour() if args.noisy else None
    try:
        run(args)
    finally:
        if neighbour:
            neighbour.kill()


def run(args):
    measured = {row["case"]: row for row in map(json.loads, filter(lambda l: l.startswith("{"), open(args.measured)))}
    rows = []
    for name, (job, base, fixes, _, _) in verdicts.CASES.items():
        if (args.only and name not in args.only) or name not in measured:
            continue
        gains = measured[name]["gains"]
        if "findings" in measured[name]:
            findings = measured[name]["findings"]  # the doctor of the same run
        else:  # an older run's file: the doctor again, now, on the job as configured
            group = verdicts.QuotaGroup(name, verdicts.QUOTA_CPUS[name]) if name in verdicts.QUOTA_CPUS else None
            try:
                findings = verdicts.doctor(args.hostmem, args.python, job, base, verdicts.DOCTOR_WARMUP.get(name, args.doctor_warmup), 10,
                                           group.prefix() if group else ()).get("findings", [])
            finally:
                if group:
                    group.close()
        for finding in findings:
            gain = finding.get("gain", {})
            # The fixes that do what the finding says: its rule named for the fix, and every value
            # the finding suggests set as the fix sets it. A finding that suggests no value
            # (e.g. input-bound on CPUs the job keeps busy: "make each batch cheaper") is not
            # held against a fix it did not suggest.
            suggested = {s["setting"]: s["value"] for s in finding.get("suggested", [])}
            candidates = {fix: gains[fix] for fix, (arguments, rules) in fixes.items()
                          if finding["id"] in rules and fix in gains and suggested and agrees(suggested, settings(arguments))}
            row = {"case": name, "finding": finding["id"], "severity": finding["severity"], "kind": gain.get("kind"),
                   "low": gain.get("speedupLow"), "high": gain.get("speedupHigh"), "model": gain.get("model")}
            if candidates:
                fix = max(candidates, key=candidates.get)
                speedup = 1 + candidates[fix]
                row.update(fix=fix, measured=round(speedup, 3))
                if gain.get("kind") == "speed":
                    high = gain.get("speedupHigh") or float("inf")  # none: the doctor said it cannot bound it
                    row["within"] = gain["speedupLow"] * (1 - TOLERANCE) <= speedup <= high * (1 + TOLERANCE)
                    row["opposite"] = speedup < 1 - TOLERANCE
            rows.append(row)
            print(json.dumps(row), flush=True)
    judged = [r for r in rows if "within" in r]
    print()
    print("| case | finding | severity | predicted | fix measured | measured | within |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if r.get("kind") == "speed":
            predicted = f"{r['low']:.2f}–{r['high']:.2f}×" if r.get("high") else f"≥ {r['low']:.2f}× (no upper bound)"
        else:
            predicted = r.get("kind") or "-"
        measured_text = f"{r['measured']:.2f}×" if "measured" in r else "-"
        within = ("yes" if r["within"] else ("no, opposite sign" if r["opposite"] else "no")) if "within" in r else "-"
        print(f"| {r['case']} | {r['finding']} | {r['severity']} | {predicted} | {r.get('fix', '-')} | {measured_text} | {within} |")
    if judged:
        inside = sum(r["within"] for r in judged)
        opposite = sum(r["opposite"] for r in judged)
        bounded = [r for r in judged if r.get("high")]
        inside_bounded = sum(r["within"] for r in bounded)
        print(f"\n{inside} of {len(judged)} speed predictions hold the measured gain ({inside / len(judged):.0%}); {opposite} of opposite sign; "
              f"of those with an upper bound, {inside_bounded} of {len(bounded)}.")


if __name__ == "__main__":
    main()
