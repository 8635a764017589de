@testable import HostMemServe
import Synchronization
import Testing

/// Concurrent scrapes share one render.
struct RenderCacheTests {
    final class Counter: Sendable {
        let count = Mutex(0)
    }

    @Test("fifty concurrent scrapes cost one render and get the same body")
    func shared() async {
        let counter = Counter()
        let cache = RenderCache(reuse: .seconds(3600)) {
            let n = counter.count.withLock { count in
                count += 1
                return count
            }
            return "render \(n)"
        }
        let bodies = await withTaskGroup(of: String.self) { group in
            for _ in 0..<50 { group.addTask { await cache.body() } }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(bodies.count == 50 && Set(bodies) == ["render 1"])
        #expect(counter.count.withLock { $0 } == 1)
    }

    @Test("after the reuse interval the next scrape renders again")
    func expires() async {
        let counter = Counter()
        let cache = RenderCache(reuse: .zero) {
            counter.count.withLock { count in
                count += 1
                return "render \(count)"
            }
        }
        #expect(await cache.body() == "render 1")
        #expect(await cache.body() == "render 2")
    }
}
