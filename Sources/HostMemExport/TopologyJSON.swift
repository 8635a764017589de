import Foundation
import HostMemDiagnosis
import HostMemTopology

/// `hostmem topo --json`: the `Topology` snapshot as JSON with sorted keys. Its
/// contract: `packages[].id`; `cores[].{package,id,pus}`; `pus[].{os,allowed,online}`;
/// `numaNodes[].{os,allowed,cpus,localMemoryBytes,distances}`;
/// `caches[].{level,kind,sizeBytes,lineSize,ways,sharedCPUs}`;
/// `gpus[].{pciAddress,vendor,numaNode,localCPUs}`; `settings`. Unknown values are null.
public enum TopologyJSON {
    public static func render(_ topology: Topology) throws -> String {
        try JSONFormat.string(topology)
    }
}
