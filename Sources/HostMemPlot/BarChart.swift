/// Horizontal bars, one per labelled value, on a linear or log scale: random access
/// rates (dependent chain, independent chains, gather, sequential) side by side.
public struct BarChart: Sendable {
    public struct Bar: Sendable {
        public var label: String
        public var value: Double
        /// A group number picks the color (`series-N`): bars of one kind share it.
        public var group: Int

        public init(label: String, value: Double, group: Int = 0) {
            self.label = label
            self.value = value
            self.group = group
        }
    }

    public var id: String
    public var title: String
    public var description: String
    public var axis: Axis
    public var bars: [Bar]
    public var width: Double

    public init(id: String, title: String, description: String, axis: Axis, bars: [Bar], width: Double = 640) {
        self.id = id
        self.title = title
        self.description = description
        self.axis = axis
        self.bars = bars
        self.width = width
    }

    public func svg() -> String {
        let left = 200.0, right = width - 56, top = 8.0, row = 22.0
        let bottom = top + row * Double(bars.count)
        let height = bottom + 44
        var svg = SVG()
        func px(_ value: Double) -> Double { left + axis.scale.fraction(value, in: axis.domain) * (right - left) }
        for tick in axis.scale.ticks(axis.domain, target: 6) {
            svg.line(px(tick), top, px(tick), bottom, class: "grid")
            svg.text(px(tick), bottom + 14, axis.format(tick), anchor: .middle, class: "tick")
        }
        for (index, bar) in bars.enumerated() {
            let y = top + row * Double(index)
            svg.text(left - 6, y + row / 2 + 4, bar.label, anchor: .end, class: "label")
            guard bar.value.isFinite, axis.scale == .linear || bar.value > 0 else { continue }
            let start = axis.scale == .linear ? px(max(axis.domain.lowerBound, 0)) : left
            svg.rect(start, y + 3, px(bar.value) - start, row - 6, class: "bar series-\(bar.group % 6)", title: "\(bar.label): \(axis.format(bar.value))")
            svg.text(px(bar.value) + 4, y + row / 2 + 4, axis.format(bar.value), class: "value")
        }
        svg.line(left, bottom, right, bottom, class: "axis")
        svg.text((left + right) / 2, bottom + 32, axis.label, anchor: .middle, class: "axis-label")
        return svg.document(width: width, height: height, id: id, title: title, description: description)
    }
}
