import HostMemPlatform

/// Why a dataset cannot be used. Each reads as one line for the user.
public enum DatasetError: Error, Sendable, Hashable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case notNPY(path: String, reason: String)
    case fortranOrder(path: String)
    case objectDType(path: String, descr: String)
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    case recordSizeMismatch(path: String, fileBytes: Int, recordBytes: Int)
    case empty(path: String)
    case labelsMismatch(samples: Int, labels: Int)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): \(reason)"
        case .notNPY(let path, let reason): "\(path) is not a NumPy .npy file: \(reason)"
        case .fortranOrder(let path):
            "\(path) is in Fortran order; save it in C order (np.save(path, np.ascontiguousarray(a)))"
        case .objectDType(let path, let descr):
            "\(path) holds Python objects (dtype \(descr)); records must be fixed-size numbers or bytes"
        case .truncated(let path, let expected, let actual):
            "\(path) is truncated: its header promises \(expected) bytes, the file has \(actual)"
        case .recordSizeMismatch(let path, let fileBytes, let recordBytes):
            "\(path): \(fileBytes) bytes is not a whole number of \(recordBytes)-byte records"
        case .empty(let path): "\(path) holds no records"
        case .labelsMismatch(let samples, let labels): "the labels file has \(labels) rows for \(samples) samples"
        }
    }

    static func from(_ error: SystemError, path: String) -> DatasetError {
        .unreadable(path: path, reason: error.reason)
    }
}
