import Foundation
import Testing
@testable import HostMemPlot

struct ScaleTests {
    @Test func linearPositionsAndNiceTicks() {
        #expect(Scale.linear.fraction(5, in: 0...10) == 0.5)
        #expect(Scale.linear.fraction(-3, in: 0...10) == 0, "clamped")
        #expect(Scale.linear.ticks(0...10, target: 5) == [0, 2, 4, 6, 8, 10])
        #expect(Scale.linear.ticks(0...33, target: 6) == [0, 10, 20, 30])
        let fractional = Scale.linear.ticks(0.2...0.9, target: 4)
        #expect(fractional.count == 4 && zip(fractional, [0.2, 0.4, 0.6, 0.8]).allSatisfy { abs($0 - $1) < 1e-9 })
    }

    @Test func logPositionsAndPowerTicks() {
        let scale = Scale.log(base: 2)
        #expect(scale.fraction(1024, in: 1...Double(1 << 20)) == 0.5)
        #expect(scale.ticks(4096...Double(1 << 30), target: 6).first == 4096)
        let ticks = scale.ticks(4096...Double(1 << 30), target: 6)
        #expect(ticks.count <= 12 && ticks.allSatisfy { log2($0) == log2($0).rounded() })
        #expect(Scale.log(base: 10).ticks(1...1000) == [1, 10, 100, 1000])
        #expect(Scale.log(base: 10).ticks(0...1000).isEmpty, "no log ticks from zero")
    }

    @Test func domains() {
        #expect(Axis.domain(of: [3, 9], scale: .log(base: 2)) == 2...16)
        #expect(Axis.domain(of: [5, 5], scale: .linear, fromZero: true).lowerBound == 0)
        #expect(Axis.domain(of: [], scale: .linear) == 0...1)
        #expect(Axis.domain(of: [0, 8], scale: .log(base: 2)) == 8...16, "zero has no place on a log axis")
    }

    @Test func formats() {
        #expect(Format.bytes(4096) == "4 KiB")
        #expect(Format.bytes(1.5 * 1_048_576) == "1.5 MiB")
        #expect(Format.bytes(Double(1 << 30)) == "1 GiB")
        #expect(Format.bytes(2e8) == "191 MiB")
        #expect(Format.number(120) == "120")
        #expect(Format.number(3.5) == "3.5")
        #expect(Format.number(0.25) == "0.25")
        #expect(Format.number(12_000) == "12k")
        #expect(Format.number(2_500_000) == "2.5M")
        #expect(SVG.number(12.04) == "12" && SVG.number(12.06) == "12.1")
    }
}

struct ChartTests {
    @Test func escapingAndAccessibility() {
        var svg = SVG()
        svg.text(0, 0, "a < b & \"c\"")
        let document = svg.document(width: 10, height: 10, id: "x", title: "T <1>", description: "D & E")
        #expect(document.contains("a &lt; b &amp; &quot;c&quot;"))
        #expect(document.contains("role=\"img\" aria-labelledby=\"x-title x-desc\""))
        #expect(document.contains("<title id=\"x-title\">T &lt;1&gt;</title>") && document.contains("<desc id=\"x-desc\">D &amp; E</desc>"))
        #expect(!document.contains("http"), "no URL at all, not even the SVG namespace (inline SVG in HTML needs none)")
    }

    @Test func lineChartPlacesPointsOnItsAxes() {
        let chart = LineChart(id: "l", title: "t", description: "d",
                              x: Axis(label: "working set", scale: .log(base: 2), domain: 1024...Double(1 << 20), format: Format.bytes),
                              y: Axis(label: "ns", scale: .log(base: 10), domain: 1...100),
                              series: [.init(name: "latency", points: [(1024, 1), (32768, 10), (Double(1 << 20), 100), (0, 5)])],
                              markers: [.init(x: 32768, label: "L1d 32 KiB")])
        // Ends of the domains land on the plot area's corners; the middle in the middle.
        #expect(chart.px(1024) == chart.plot.left && chart.px(Double(1 << 20)) == chart.plot.right)
        #expect(chart.py(1) == chart.plot.bottom && chart.py(100) == chart.plot.top)
        #expect(abs(chart.px(32768) - (chart.plot.left + chart.plot.right) / 2) < 1e-9)
        let svg = chart.svg()
        #expect(svg.components(separatedBy: "<circle").count - 1 == 3, "the point at x = 0 has no place on a log axis")
        #expect(svg.contains("L1d 32 KiB") && svg.contains(">1 MiB<") && svg.contains("class=\"line series-0\""))
    }

    @Test func heatMapShadesAndGaps() {
        let map = HeatMap(id: "h", title: "t", description: "d", rowTitle: "CPU node", columnTitle: "memory node",
                          rowLabels: ["0", "1"], columnLabels: ["0", "1"], values: [[90, 150], [nil, 95]], higherIsBetter: false)
        #expect(map.shade(90) == 0 && map.shade(150) == 1)
        let svg = map.svg()
        #expect(svg.contains("not measured") && svg.contains(">150<"))
        let inverted = HeatMap(id: "h", title: "t", description: "d", rowTitle: "", columnTitle: "", rowLabels: ["0"], columnLabels: ["0", "1"],
                               values: [[30, 10]], higherIsBetter: true)
        #expect(inverted.shade(30) == 0, "the best bandwidth is the lightest")
    }

    @Test func barsOnALogAxis() {
        let chart = BarChart(id: "b", title: "t", description: "d", axis: Axis(label: "M loads/s", scale: .log(base: 10), domain: 1...1000),
                             bars: [.init(label: "dependent chain", value: 4.3), .init(label: "gather", value: 136, group: 1), .init(label: "none", value: 0)])
        let svg = chart.svg()
        #expect(svg.components(separatedBy: "class=\"bar ").count - 1 == 2, "a zero has no bar on a log axis")
        #expect(svg.contains("dependent chain") && svg.contains("series-1"))
    }
}
