import Foundation
import HostMemTestSupport
import Testing

/// libhostmem_c.so exports exactly the functions include/hostmem.h declares.
struct CABITests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("the library's exported hostmem_ functions are exactly the header's")
    func exportsTheHeader() throws {
        let header = try String(contentsOf: Self.repository.appendingPathComponent("include/hostmem.h"), encoding: .utf8)
        var declared = Set<String>()
        for line in header.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix(" *") && !line.hasPrefix("/*") {
            guard let open = line.firstIndex(of: "(") else { continue }
            let name = line[..<open].split(whereSeparator: { $0 == " " || $0 == "*" }).last.map(String.init) ?? ""
            if name.hasPrefix("hostmem_") { declared.insert(name) }
        }
        #expect(declared.count >= 8 && declared.contains("hostmem_bag_lookup"))
        let library = URL(fileURLWithPath: HostMemBinary.path).deletingLastPathComponent().appendingPathComponent("libhostmem_c.so").path
        try #require(FileManager.default.fileExists(atPath: library), "swift build makes \(library)")
        let symbols = try Shell.run("/usr/bin/env", ["nm", "-D", "--defined-only", library]).output
        let exported = Set(symbols.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count == 3, fields[1] == "T", fields[2].hasPrefix("hostmem_") else { return nil }
            return String(fields[2])
        })
        #expect(exported == declared, "exported but not declared: \(exported.subtracting(declared)); declared but not exported: \(declared.subtracting(exported))")
    }
}
