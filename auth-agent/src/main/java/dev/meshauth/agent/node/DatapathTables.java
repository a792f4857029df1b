package dev.meshauth.agent.node;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.datapath.IngressPolicy;
import dev.meshauth.bpf.datapath.IpcacheEntry;
import dev.meshauth.bpf.datapath.Ipv4Prefix;
import dev.meshauth.bpf.datapath.PolicyKey;
import dev.meshauth.bpf.datapath.PolicyVerdict;

import java.util.Map;

/**
 * The standalone datapath's tables as {@link DatapathProgrammer} writes them. Production:
 * {@link KernelDatapathTables} over the kernel maps; tests also record the order of writes.
 */
interface DatapathTables {
    Map<Ipv4Prefix, IpcacheEntry> ipcache() throws BpfException;

    void putIpcache(Ipv4Prefix prefix, IpcacheEntry entry) throws BpfException;

    void removeIpcache(Ipv4Prefix prefix) throws BpfException;

    Map<Long, IngressPolicy> ingressPolicies() throws BpfException;

    void setIngressPolicy(long identity, IngressPolicy policy) throws BpfException;

    Map<PolicyKey, PolicyVerdict> policy() throws BpfException;

    void putPolicy(PolicyKey key, PolicyVerdict verdict) throws BpfException;

    void removePolicy(PolicyKey key) throws BpfException;
}
