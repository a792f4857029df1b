package dev.meshauth.agent.node;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.datapath.EndpointPolicy;
import dev.meshauth.bpf.datapath.IpPrefix;
import dev.meshauth.bpf.datapath.IpcacheEntry;
import dev.meshauth.bpf.datapath.PolicyKey;
import dev.meshauth.bpf.datapath.PolicyVerdict;

import java.util.Map;

/**
 * The standalone datapath's tables as {@link DatapathProgrammer} writes them. Production:
 * {@link KernelDatapathTables} over the kernel maps; tests also record the order of writes.
 */
interface DatapathTables {
    Map<IpPrefix, IpcacheEntry> ipcache() throws BpfException;

    void putIpcache(IpPrefix prefix, IpcacheEntry entry) throws BpfException;

    void removeIpcache(IpPrefix prefix) throws BpfException;

    Map<Long, EndpointPolicy> endpointPolicies() throws BpfException;

    void setEndpointPolicy(long identity, EndpointPolicy policy) throws BpfException;

    Map<PolicyKey, PolicyVerdict> policy() throws BpfException;

    void putPolicy(PolicyKey key, PolicyVerdict verdict) throws BpfException;

    void removePolicy(PolicyKey key) throws BpfException;
}
