package dev.meshauth.agent.node;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.datapath.Datapath;
import dev.meshauth.bpf.datapath.EndpointLinks;
import dev.meshauth.bpf.link.NetNs;
import dev.meshauth.policy.endpoint.Endpoint;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where the standalone datapath is attached: both programs (what the endpoint receives, what it sends) on
 * every local endpoint that names an interface.
 */
final class EndpointAttachments {
    private final Map<String, EndpointLinks> attached = new HashMap<>(); // @GuardedBy("this"): endpoint id -> links

    /** Attaches {@code dp} to local endpoints not yet attached and detaches from endpoints that are gone. */
    synchronized void sync(Datapath dp, List<Endpoint> endpoints, String selfNode) throws BpfException {
        Set<String> wanted = new HashSet<>();
        for (Endpoint e : endpoints) {
            if (!e.node().equals(selfNode) || e.iface().isEmpty()) {
                continue;
            }
            wanted.add(e.id());
            if (!attached.containsKey(e.id())) {
                attached.put(e.id(), dp.attachToEndpoint(e.iface().get(), e.netns().map(NetNs::named)));
            }
        }
        for (var it = attached.entrySet().iterator(); it.hasNext(); ) {
            var a = it.next();
            if (!wanted.contains(a.getKey())) {
                dp.detach(a.getValue());
                it.remove();
            }
        }
    }
}
