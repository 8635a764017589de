import Foundation

/// Builds SVG markup: elements with escaped text and attributes, numbers written with
/// at most one decimal. Colors come from CSS classes (`series-N`, `axis`, `grid`,
/// `marker`), so the page's style sheet decides them, dark mode included.
public struct SVG: Sendable {
    public private(set) var body: [String] = []

    public init() {}

    /// Text safe inside an element or a double-quoted attribute.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    /// "12.5", "3" (no trailing ".0"): short, stable output for golden files.
    public static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }

    public mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, class name: String) {
        body.append("<line x1=\"\(Self.number(x1))\" y1=\"\(Self.number(y1))\" x2=\"\(Self.number(x2))\" y2=\"\(Self.number(y2))\" class=\"\(name)\"/>")
    }

    public mutating func rect(_ x: Double, _ y: Double, _ width: Double, _ height: Double, class name: String, style: String? = nil, title: String? = nil) {
        let attributes = "x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(max(0, width)))\" height=\"\(Self.number(max(0, height)))\" class=\"\(name)\"" + (style.map { " style=\"\(Self.escape($0))\"" } ?? "")
        if let title {
            body.append("<rect \(attributes)><title>\(Self.escape(title))</title></rect>")
        } else {
            body.append("<rect \(attributes)/>")
        }
    }

    public mutating func polyline(_ points: [(Double, Double)], class name: String) {
        let list = points.map { "\(Self.number($0.0)),\(Self.number($0.1))" }.joined(separator: " ")
        body.append("<polyline points=\"\(list)\" class=\"\(name)\"/>")
    }

    public mutating func circle(_ x: Double, _ y: Double, radius: Double, class name: String, title: String? = nil) {
        let attributes = "cx=\"\(Self.number(x))\" cy=\"\(Self.number(y))\" r=\"\(Self.number(radius))\" class=\"\(name)\""
        if let title {
            body.append("<circle \(attributes)><title>\(Self.escape(title))</title></circle>")
        } else {
            body.append("<circle \(attributes)/>")
        }
    }

    public enum Anchor: String, Sendable { case start, middle, end }

    public mutating func text(_ x: Double, _ y: Double, _ content: String, anchor: Anchor = .start, class name: String = "label", rotate: Bool = false) {
        let transform = rotate ? " transform=\"rotate(-90 \(Self.number(x)) \(Self.number(y)))\"" : ""
        body.append("<text x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" text-anchor=\"\(anchor.rawValue)\" class=\"\(name)\"\(transform)>\(Self.escape(content))</text>")
    }

    public mutating func raw(_ markup: String) { body.append(markup) }

    /// The whole `<svg>` element, an image for assistive technology: its title and
    /// description are the first children and label it.
    public func document(width: Double, height: Double, id: String, title: String, description: String) -> String {
        let head = "<svg viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" role=\"img\" aria-labelledby=\"\(id)-title \(id)-desc\">"
        return ([head, "<title id=\"\(id)-title\">\(Self.escape(title))</title>", "<desc id=\"\(id)-desc\">\(Self.escape(description))</desc>"]
            + body + ["</svg>"]).joined(separator: "\n")
    }
}
