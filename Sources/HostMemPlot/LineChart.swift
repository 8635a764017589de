/// Lines through measured points on linear or log axes, with vertical markers (detected
/// levels, cache sizes) and a legend: the latency staircase, bandwidth against threads,
/// a timeline.
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// Draw a dot at each point (for few points) as well as the line.
        public var dots: Bool

        public init(name: String, points: [(x: Double, y: Double)], dots: Bool = true) {
            self.name = name
            self.points = points
            self.dots = dots
        }
    }

    /// A vertical line at `x` with a short label (a cache size, a detected level).
    public struct Marker: Sendable {
        public var x: Double
        public var label: String
        public var dashed: Bool

        public init(x: Double, label: String, dashed: Bool = false) {
            self.x = x
            self.label = label
            self.dashed = dashed
        }
    }

    public var id: String
    public var title: String
    public var description: String
    public var x: Axis
    public var y: Axis
    public var series: [Series]
    public var markers: [Marker]
    public var width: Double
    public var height: Double

    public init(id: String, title: String, description: String, x: Axis, y: Axis, series: [Series], markers: [Marker] = [],
                width: Double = 640, height: Double = 320) {
        self.id = id
        self.title = title
        self.description = description
        self.x = x
        self.y = y
        self.series = series
        self.markers = markers
        self.width = width
        self.height = height
    }

    /// The plot area inside the margins (room for tick labels, axis labels and the legend).
    var plot: (left: Double, top: Double, right: Double, bottom: Double) {
        (64, 16, width - 16, height - 48 - 18 * Double((series.count + 2) / 3))
    }

    /// Horizontal position of a value.
    public func px(_ value: Double) -> Double {
        plot.left + x.scale.fraction(value, in: x.domain) * (plot.right - plot.left)
    }

    /// Vertical position of a value (up is larger).
    public func py(_ value: Double) -> Double {
        plot.bottom - y.scale.fraction(value, in: y.domain) * (plot.bottom - plot.top)
    }

    public func svg() -> String {
        var svg = SVG()
        let area = plot
        for tick in y.scale.ticks(y.domain) {
            svg.line(area.left, py(tick), area.right, py(tick), class: "grid")
            svg.text(area.left - 6, py(tick) + 4, y.format(tick), anchor: .end, class: "tick")
        }
        for tick in x.scale.ticks(x.domain, target: 8) {
            svg.line(px(tick), area.bottom, px(tick), area.bottom + 4, class: "axis")
            svg.text(px(tick), area.bottom + 16, x.format(tick), anchor: .middle, class: "tick")
        }
        svg.line(area.left, area.bottom, area.right, area.bottom, class: "axis")
        svg.line(area.left, area.top, area.left, area.bottom, class: "axis")
        svg.text((area.left + area.right) / 2, area.bottom + 32, x.label, anchor: .middle, class: "axis-label")
        svg.text(14, (area.top + area.bottom) / 2, y.label, anchor: .middle, class: "axis-label", rotate: true)
        // Labels go in the first row where they do not run into the one before (about 6 px a character).
        var rowEnds: [Double] = []
        for marker in markers.filter({ x.domain.contains($0.x) }).sorted(by: { $0.x < $1.x }) {
            let labelWidth = Double(marker.label.count) * 6
            // Near the right edge the label goes to the left of its line.
            let flipped = px(marker.x) + 3 + labelWidth > width - 2
            let start = flipped ? px(marker.x) - 3 - labelWidth : px(marker.x) + 3
            let row = rowEnds.firstIndex { $0 < start } ?? rowEnds.count
            if row == rowEnds.count { rowEnds.append(0) }
            rowEnds[row] = start + labelWidth + 4
            svg.line(px(marker.x), area.top, px(marker.x), area.bottom, class: marker.dashed ? "marker dashed" : "marker")
            svg.text(flipped ? px(marker.x) - 3 : start, area.top + 10 + Double(row) * 11, marker.label, anchor: flipped ? .end : .start, class: "marker-label")
        }
        for (index, series) in series.enumerated() {
            let visible = series.points.filter { $0.x.isFinite && $0.y.isFinite && (x.scale == .linear || $0.x > 0) && (y.scale == .linear || $0.y > 0) }
            let name = "series-\(index % 6)"
            if visible.count > 1 { svg.polyline(visible.map { (px($0.x), py($0.y)) }, class: "line \(name)") }
            if series.dots || visible.count == 1 {
                for point in visible {
                    svg.circle(px(point.x), py(point.y), radius: 2.5, class: "dot \(name)",
                               title: "\(series.name): \(x.format(point.x)), \(y.format(point.y))")
                }
            }
            // Legend: three entries a row under the x-axis label.
            let legendX = area.left + Double(index % 3) * ((area.right - area.left) / 3)
            let legendY = area.bottom + 50 + Double(index / 3) * 18
            svg.rect(legendX, legendY - 8, 12, 4, class: "swatch \(name)")
            svg.text(legendX + 16, legendY - 3, series.name, class: "legend")
        }
        return svg.document(width: width, height: height, id: id, title: title, description: description)
    }
}
