package dev.meshauth.bpf.datapath;

/**
 * What the ipcache says about an address: the security identity behind it and the node it lives on.
 *
 * @param identity security identity (u32)
 * @param nodeId   Cilium node id (u16); 0 is this node
 */
public record IpcacheEntry(long identity, int nodeId) {
    /** Range checks. */
    public IpcacheEntry {
        if (identity < 0 || identity > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("identity must be a u32, got " + identity);
        }
        if (nodeId < 0 || nodeId > 0xFFFF) {
            throw new IllegalArgumentException("node id must be 0..65535, got " + nodeId);
        }
    }
}
