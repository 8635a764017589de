"""`hostmem tune` held against a brute-force sweep of the same settings (issue 29).

1. `hostmem tune --json --budget B -- JOB` as a user runs it: its wall time and the
   setting it recommends (the job's own when nothing is 3% faster).
2. The brute force: every setting tune tried, and the job as given, measured the same way
   (`hostmem tune --try S … --rounds R`: the settings through the same hook, alternating
   round by round; each setting's median over the rounds, in batches per second counted
   by the hook over --seconds after --warmup).
3. Tune's choice's brute-force rate over the best brute-force rate: the goal is ≥ 0.95, and
   tune's wall time ≤ the budget.

Usage: python3 tune_sweep.py [--hostmem PATH] [--python PATH] [--budget 120] [--rounds 3]
       [--seconds 8] [--warmup 3] [--noisy] [-- JOB ARGS]   (default: imagenet_folder.py --workers 4)
Prints both sides and one JSON line."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import verdicts  # noqa: E402


def settings_text(settings):
    return ",".join(f"{k}={v}" for k, v in sorted(settings.items())) or "as given"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hostmem", default=os.path.join(HERE, "../../.build/release/hostmem"))
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--budget", type=float, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--noisy", action="store_true", help="one CPU kept busy by a process outside the job throughout")
    parser.add_argument("job", nargs="*")
    args = parser.parse_args()
    job = args.job or [os.path.join(HERE, "imagenet_folder.py"), "--workers", "4", "--forever", "--warmup", "0"]
    command = [args.python] + job
    timing = ["--seconds", str(args.seconds), "--warmup", str(args.warmup)]
    neighbour = verdicts.start_neighbour() if args.noisy else None
    try:
        started = time.monotonic()
        tuned = json.loads(subprocess.run([args.hostmem, "tune", "--json", "--budget", str(args.budget)] + timing + ["--"] + command,
                                          capture_output=True, text=True, check=True).stdout)
        wall = time.monotonic() - started
        tried = [t["settings"] for t in tuned["trials"] if t["settings"]]
        print(f"hostmem tune: {len(tuned['trials'])} settings in {wall:.0f} s (budget {args.budget:.0f} s)")
        for trial in tuned["trials"]:
            print(f"  {settings_text(trial['settings'])}: {trial['batchesPerSecond']:.2f} batches/s ({len(trial['runs'])} run{'s' if len(trial['runs']) > 1 else ''})")
        print(f"  chose: {settings_text(tuned['chosen'])} ({tuned['speedup']:.2f}× as given)")

        tries = [argument for settings in tried for argument in ("--try", settings_text(settings))]
        brute = json.loads(subprocess.run([args.hostmem, "tune", "--json", "--rounds", str(args.rounds), "--budget", "3600"] + timing + tries
                                          + ["--"] + command, capture_output=True, text=True, check=True).stdout)
        rates = {settings_text(t["settings"]): statistics.median(t["runs"]) for t in brute["trials"]}
        print(f"brute force: {len(rates)} settings × {args.rounds} rounds, alternating (median batches/s):")
        for name, rate in sorted(rates.items(), key=lambda item: -item[1]):
            print(f"  {name}: {rate:.2f}")
        best = max(rates, key=rates.get)
        chosen = settings_text(tuned["chosen"])
        share = rates[chosen] / rates[best]
        ok = share >= 0.95 and wall <= args.budget
        print(f"tune's choice ({chosen}) runs at {share:.1%} of the sweep's best ({best}); tune took {wall:.0f} s: "
              + ("within 5% in the budget" if ok else "NOT within 5% in the budget"))
        print(json.dumps({"job": job, "tune_seconds": round(wall, 1), "budget": args.budget, "chosen": chosen, "best": best,
                          "share_of_best": round(share, 3), "rates": {k: round(v, 2) for k, v in rates.items()},
                          "tune_trials": tuned["trials"], "noisy": args.noisy, "ok": ok}))
    finally:
        if neighbour:
            neighbour.kill()


if __name__ == "__main__":
    main()
