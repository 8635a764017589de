/// A matrix of values as colored cells with the value written in each: the NUMA latency
/// and bandwidth matrices (rows: the CPUs' node, columns: the memory's node). Lighter is
/// better when `higherIsBetter` is false (latency), darker otherwise; empty cells are
/// shown as not measured, never as 0.
public struct HeatMap: Sendable {
    public var id: String
    public var title: String
    public var description: String
    public var rowTitle: String
    public var columnTitle: String
    public var rowLabels: [String]
    public var columnLabels: [String]
    public var values: [[Double?]]
    public var format: @Sendable (Double) -> String
    public var higherIsBetter: Bool

    public init(id: String, title: String, description: String, rowTitle: String, columnTitle: String, rowLabels: [String], columnLabels: [String],
                values: [[Double?]], higherIsBetter: Bool, format: @escaping @Sendable (Double) -> String = Format.number) {
        self.id = id
        self.title = title
        self.description = description
        self.rowTitle = rowTitle
        self.columnTitle = columnTitle
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.values = values
        self.higherIsBetter = higherIsBetter
        self.format = format
    }

    /// The cell's shade, 0 (best) … 1 (worst), from its place between the smallest and largest value.
    public func shade(_ value: Double) -> Double {
        let all = values.flatMap { $0 }.compactMap { $0 }
        guard let low = all.min(), let high = all.max(), high > low else { return 0 }
        let position = (value - low) / (high - low)
        return higherIsBetter ? 1 - position : position
    }

    public func svg() -> String {
        let cell = 56.0, left = 96.0, top = 40.0
        let width = max(left + cell * Double(columnLabels.count) + 16, left + Double(columnTitle.count) * 6.5 + 16)
        let height = top + cell * Double(rowLabels.count) + 16
        var svg = SVG()
        svg.text(left, 14, columnTitle, class: "axis-label")
        svg.text(12, top + cell * Double(rowLabels.count) / 2, rowTitle, anchor: .middle, class: "axis-label", rotate: true)
        for (column, label) in columnLabels.enumerated() {
            svg.text(left + cell * (Double(column) + 0.5), top - 8, label, anchor: .middle, class: "tick")
        }
        for (row, label) in rowLabels.enumerated() {
            svg.text(left - 8, top + cell * (Double(row) + 0.5) + 4, label, anchor: .end, class: "tick")
            for column in columnLabels.indices {
                let x = left + cell * Double(column), y = top + cell * Double(row)
                guard row < values.count, column < values[row].count, let value = values[row][column] else {
                    svg.rect(x + 1, y + 1, cell - 2, cell - 2, class: "cell empty", title: "\(label) → \(columnLabels[column]): not measured")
                    svg.text(x + cell / 2, y + cell / 2 + 4, "–", anchor: .middle, class: "cell-label")
                    continue
                }
                let shade = shade(value)
                // Opacity carries the value; the hue comes from the style sheet.
                svg.rect(x + 1, y + 1, cell - 2, cell - 2, class: "cell", style: "fill-opacity:\(SVG.number(0.15 + 0.85 * shade))",
                         title: "\(label) → \(columnLabels[column]): \(format(value))")
                svg.text(x + cell / 2, y + cell / 2 + 4, format(value), anchor: .middle, class: shade > 0.6 ? "cell-label strong" : "cell-label")
            }
        }
        return svg.document(width: width, height: height, id: id, title: title, description: description)
    }
}
