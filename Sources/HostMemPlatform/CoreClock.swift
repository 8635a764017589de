import CHostMemKernels

/// The core clock, measured rather than read: cpufreq is absent in most VMs and the
/// nominal frequency lies under turbo. A chain of dependent integer additions retires
/// one per cycle on every x86-64 and Arm core we know, so additions ÷ seconds is the
/// clock the calling thread ran at.
public enum CoreClock {
    /// Runs `additions` dependent additions (rounded to 64) and returns the seconds taken.
    public static func timeDependentAdditions(_ additions: Int) -> Double {
        let rounds = UInt64(max(1, additions / 64))
        let start = MonotonicClock.nanoseconds()
        let value = hostmem_dependent_adds(rounds)
        let end = MonotonicClock.nanoseconds()
        hostmem_black_hole(value)
        return Double(end - start) / 1e9
    }

    /// The calling thread's clock in GHz: the best of `repetitions` runs of about
    /// 10 ms each after a warm-up (the best, because interruptions only slow a run).
    public static func measureGigahertz(repetitions: Int = 7) -> Double {
        let additions = 32 << 20
        _ = timeDependentAdditions(additions)  // warm-up: let the core leave idle clocks
        var best = Double.infinity
        for _ in 0..<max(1, repetitions) {
            best = min(best, timeDependentAdditions(additions))
        }
        return Double(additions / 64 * 64) / best / 1e9
    }
}
