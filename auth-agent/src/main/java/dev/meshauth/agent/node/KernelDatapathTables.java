package dev.meshauth.agent.node;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.datapath.Datapath;
import dev.meshauth.bpf.datapath.EndpointPolicy;
import dev.meshauth.bpf.datapath.IpPrefix;
import dev.meshauth.bpf.datapath.IpcacheEntry;
import dev.meshauth.bpf.datapath.PolicyKey;
import dev.meshauth.bpf.datapath.PolicyVerdict;

import java.util.Map;

/** The standalone datapath's kernel maps. */
record KernelDatapathTables(Datapath dp) implements DatapathTables {
    @Override
    public Map<IpPrefix, IpcacheEntry> ipcache() throws BpfException {
        return dp.ipcache();
    }

    @Override
    public void putIpcache(IpPrefix prefix, IpcacheEntry entry) throws BpfException {
        dp.putIpcache(prefix, entry);
    }

    @Override
    public void removeIpcache(IpPrefix prefix) throws BpfException {
        dp.removeIpcache(prefix);
    }

    @Override
    public Map<Long, EndpointPolicy> endpointPolicies() throws BpfException {
        return dp.endpointPolicies();
    }

    @Override
    public void setEndpointPolicy(long identity, EndpointPolicy policy) throws BpfException {
        dp.setEndpointPolicy(identity, policy);
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
