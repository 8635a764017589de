/// Lines of bytes without their newlines: the one splitter behind reading /proc files
/// line by line, whole (`ProcParsers`) or streamed (`FileSystem.forEachLine`).
public enum ByteLines {
    /// Hands `body` each non-empty line that ends with a newline in `bytes`; returns where
    /// the unterminated rest begins (`bytes.count` when there is none). `newFrom`: where
    /// bytes not yet searched begin, when those before it hold no newline (a streamed
    /// line's start, kept from the previous read).
    @discardableResult
    public static func forEachTerminated(in bytes: UnsafeBufferPointer<UInt8>, newFrom: Int = 0,
                                         _ body: (Slice<UnsafeBufferPointer<UInt8>>) -> Void) -> Int {
        var start = 0
        for index in newFrom..<bytes.count where bytes[index] == UInt8(ascii: "\n") {
            if index > start { body(bytes[start..<index]) }
            start = index + 1
        }
        return start
    }

    /// Every non-empty line of `bytes`, the last one with or without a newline.
    public static func forEach(in bytes: UnsafeBufferPointer<UInt8>, _ body: (Slice<UnsafeBufferPointer<UInt8>>) -> Void) {
        let rest = forEachTerminated(in: bytes, body)
        if rest < bytes.count { body(bytes[rest...]) }
    }
}
