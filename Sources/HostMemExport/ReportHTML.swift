import Foundation
import HostMemDiagnosis
import HostMemPlot
import HostMemTopology

/// `hostmem report`: one self-contained HTML page from a `ReportSnapshot` (and, with
/// `--compare`, an older one beside it). Inline CSS and SVG only: no script, font, image
/// or any other resource, so it opens offline, prints, and follows the reader's dark mode.
public enum ReportHTML {
    public static func render(_ snapshot: ReportSnapshot, compare older: ReportSnapshot? = nil) -> String {
        let report = snapshot.doctor
        let title = "hostmem report — " + (report.job?.main.map { "PID \($0.pid) (\(DoctorText.truncate($0.command, 50)))" } ?? "this machine")
        var body: [String] = []
        body.append("<header><h1>\(escape(title))</h1>")
        body.append("<p class=\"machine\">\(escape(TopologyText.summary(report.machine)))</p>")
        body.append("<p class=\"meta\">Taken \(escape(timestamp(snapshot.takenAt))). \(escape(DoctorText.calibrationLine(report.calibration)))</p></header>")
        body.append("<nav><a href=\"#findings\">Findings</a> · <a href=\"#job\">Job</a> · <a href=\"#machine\">Machine</a> · <a href=\"#limits\">Limits</a>"
                    + (older != nil ? " · <a href=\"#compare\">Before and after</a>" : "") + "</nav>")
        if let older { body += compareSection(older: older, newer: snapshot) }
        body += findingsSection(report)
        body += jobSection(report, timeline: snapshot.timeline)
        body += machineSection(snapshot)
        body += limitsSection(snapshot)
        return page(title: title, body: body)
    }

    static func page(title: String, body: [String]) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <title>\(escape(title))</title>
        <style>
        \(style)
        </style>
        </head>
        <body>
        \(body.joined(separator: "\n"))
        <footer>Made by hostmem. Every figure names its statistic, unit and working set; absent measurements are said to be absent, never drawn as zero.</footer>
        </body>
        </html>

        """
    }

    // MARK: Findings

    static func findingsSection(_ report: DoctorReport) -> [String] {
        var lines = ["<section id=\"findings\"><h2>Findings</h2>"]
        if report.findings.isEmpty {
            lines.append("<p class=\"ok\">No findings: nothing crossed a threshold.</p>")
        }
        for (index, finding) in report.findings.enumerated() {
            lines.append("<article class=\"finding \(finding.severity.rawValue)\">")
            lines.append("<h3><span class=\"badge\">\(escape(finding.severity.rawValue.uppercased()))</span> \(index + 1). \(escape(finding.title)) <code>\(escape(finding.id.rawValue))</code></h3>")
            lines.append("<ul class=\"evidence\">" + EvidenceText.lines(finding).map { "<li>\(escape($0))</li>" }.joined() + "</ul>")
            lines.append("<p class=\"fix\"><strong>Fix:</strong> \(escape(RuleText.fix(finding)))</p>")
            if let suggested = RuleText.suggested(finding) { lines.append("<p class=\"set\"><strong>Set:</strong> <code>\(escape(suggested))</code></p>") }
            lines.append("<p class=\"gain\"><strong>Predicted gain:</strong> \(escape(RuleText.gain(finding.gain)))</p>")
            lines.append("<p class=\"why\">\(escape(finding.concept))</p></article>")
        }
        if !report.notJudged.isEmpty {
            lines.append("<h3>Not judged</h3><ul class=\"not-judged\">" + report.notJudged.map { "<li>\(escape(RuleText.notJudgedLine($0)))</li>" }.joined() + "</ul>")
        }
        lines.append("</section>")
        return lines
    }

    // MARK: Helpers

    static func escape(_ text: String) -> String { SVG.escape(text) }

    /// A table with a header row (`th scope="col"`) and a caption.
    static func table(caption: String, header: [String], rows: [[String]], highlighted: Set<Int> = []) -> String {
        var html = "<table><caption>\(escape(caption))</caption><thead><tr>" + header.map { "<th scope=\"col\">\(escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for (index, row) in rows.enumerated() {
            html += "<tr\(highlighted.contains(index) ? " class=\"wrong\"" : "")>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>"
        }
        return html + "</tbody></table>"
    }

    /// A figure: the chart and a caption that names what is drawn.
    static func figure(_ svg: String, caption: String) -> String {
        "<figure>\(svg)<figcaption>\(escape(caption))</figcaption></figure>"
    }

    static func timestamp(_ seconds: Int) -> String {
        guard seconds > 0 else { return "at an unknown time" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    static let style = """
        :root { --fg: #1b1f24; --muted: #5a6470; --bg: #ffffff; --panel: #f4f6f8; --line: #c9d1d9; --accent: #0b63c5;
          --critical: #b3261e; --warning: #9a6700; --info: #0b63c5; --ok: #1a7f37;
          --s0: #0b63c5; --s1: #d1242f; --s2: #1a7f37; --s3: #8250df; --s4: #bf8700; --s5: #57606a; --cell: #d1242f; }
        @media (prefers-color-scheme: dark) {
          :root { --fg: #e6edf3; --muted: #9aa5b1; --bg: #0d1117; --panel: #161b22; --line: #30363d; --accent: #58a6ff;
            --critical: #ff7b72; --warning: #e3b341; --info: #58a6ff; --ok: #56d364;
            --s0: #58a6ff; --s1: #ff7b72; --s2: #56d364; --s3: #bc8cff; --s4: #e3b341; --s5: #8b949e; --cell: #ff7b72; }
        }
        body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); max-width: 1100px; margin: 0 auto; padding: 16px 24px; }
        h1 { font-size: 1.5em; margin: 0.2em 0; } h2 { border-bottom: 1px solid var(--line); padding-bottom: 4px; margin-top: 1.6em; }
        h3 { font-size: 1.05em; } code { font-size: 0.9em; color: var(--muted); }
        .machine, .meta, figcaption, footer, .why { color: var(--muted); } nav { margin: 8px 0 16px; }
        a { color: var(--accent); }
        .finding { border-left: 4px solid var(--line); background: var(--panel); padding: 6px 14px; margin: 10px 0; border-radius: 4px; }
        .finding.critical { border-color: var(--critical); } .finding.warning { border-color: var(--warning); } .finding.info { border-color: var(--info); }
        .badge { font-size: 0.75em; padding: 1px 6px; border-radius: 3px; border: 1px solid currentColor; }
        .critical .badge { color: var(--critical); } .warning .badge { color: var(--warning); } .info .badge { color: var(--info); }
        .evidence { margin: 4px 0; padding-left: 20px; } .ok { color: var(--ok); }
        table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.92em; } caption { text-align: left; color: var(--muted); padding: 4px 0; }
        th, td { border-bottom: 1px solid var(--line); padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
        tr.wrong td { color: var(--critical); font-weight: 600; }
        figure { margin: 12px 0 20px; } svg { max-width: 100%; height: auto; font: 11px system-ui, sans-serif; }
        svg .grid { stroke: var(--line); stroke-width: 0.5; } svg .axis { stroke: var(--muted); stroke-width: 1; }
        svg .tick, svg .legend, svg .marker-label, svg .label, svg .value { fill: var(--muted); } svg .axis-label { fill: var(--fg); font-weight: 600; }
        svg .line { fill: none; stroke-width: 2; } svg .marker { stroke: var(--muted); stroke-width: 1; } svg .dashed { stroke-dasharray: 4 3; }
        svg .series-0 { stroke: var(--s0); fill: var(--s0); } svg .series-1 { stroke: var(--s1); fill: var(--s1); } svg .series-2 { stroke: var(--s2); fill: var(--s2); }
        svg .series-3 { stroke: var(--s3); fill: var(--s3); } svg .series-4 { stroke: var(--s4); fill: var(--s4); } svg .series-5 { stroke: var(--s5); fill: var(--s5); }
        svg .line.series-0, svg .line.series-1, svg .line.series-2, svg .line.series-3, svg .line.series-4, svg .line.series-5 { fill: none; }
        svg .cell { fill: var(--cell); } svg .cell.empty { fill: var(--panel); stroke: var(--line); } svg .cell-label { fill: var(--fg); } svg .cell-label.strong { font-weight: 700; }
        svg .box { fill: var(--panel); stroke: var(--line); } svg .node { fill: none; stroke: var(--accent); } svg .pu { fill: var(--s2); fill-opacity: 0.35; stroke: var(--s2); }
        svg .pu.denied { fill: var(--panel); stroke: var(--line); stroke-dasharray: 2 2; } svg .device { fill: var(--panel); stroke: var(--s3); }
        .columns { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
        @media print { nav { display: none; } body { max-width: none; font-size: 11px; } .finding, figure, table { break-inside: avoid; } }
        """
}
