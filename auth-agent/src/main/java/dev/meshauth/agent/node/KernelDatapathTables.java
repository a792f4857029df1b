package dev.meshauth.agent.node;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.datapath.Datapath;
import dev.meshauth.bpf.datapath.IngressPolicy;
import dev.meshauth.bpf.datapath.IpcacheEntry;
import dev.meshauth.bpf.datapath.Ipv4Prefix;
import dev.meshauth.bpf.datapath.PolicyKey;
import dev.meshauth.bpf.datapath.PolicyVerdict;

import java.util.Map;

/** The standalone datapath's kernel maps. */
record KernelDatapathTables(Datapath dp) implements DatapathTables {
    @Override
    public Map<Ipv4Prefix, IpcacheEntry> ipcache() throws BpfException {
        return dp.ipcache();
    }

    @Override
    public void putIpcache(Ipv4Prefix prefix, IpcacheEntry entry) throws BpfException {
        dp.putIpcache(prefix, entry);
    }

    @Override
    public void removeIpcache(Ipv4Prefix prefix) throws BpfException {
        dp.removeIpcache(prefix);
    }

    @Override
    public Map<Long, IngressPolicy> ingressPolicies() throws BpfException {
        return dp.ingressPolicies();
    }

    @Override
    public void setIngressPolicy(long identity, IngressPolicy policy) throws BpfException {
        dp.setIngressPolicy(identity, policy);
    }

    @Override
    public Map<PolicyKey, PolicyVerdict> policy() throws BpfException {
        return dp.policy();
    }

    @Override
    public void putPolicy(PolicyKey key, PolicyVerdict verdict) throws BpfException {
        dp.putPolicy(key, verdict);
    }

    @Override
    public void removePolicy(PolicyKey key) throws BpfException {
        dp.removePolicy(key);
    }
}
