package dev.meshauth.agent.node;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.datapath.Datapath;
import dev.meshauth.bpf.datapath.EndpointLinks;
import dev.meshauth.bpf.datapath.Role;
import dev.meshauth.bpf.link.NetNs;
import dev.meshauth.bpf.link.TcxLink;
import dev.meshauth.policy.endpoint.Endpoint;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Where the standalone datapath is attached: both programs (what the endpoint receives, what it sends) on
 * every local endpoint that names an interface; and, by the endpoint's addresses, where a packet of it
 * was judged.
 */
final class EndpointAttachments {
    private final Map<String, EndpointLinks> attached = new HashMap<>(); // @GuardedBy("this"): endpoint id -> links
    private final Map<InetAddress, EndpointLinks> byAddress = new HashMap<>(); // @GuardedBy("this")

    /** Attaches {@code dp} to local endpoints not yet attached and detaches from endpoints that are gone. */
    synchronized void sync(Datapath dp, List<Endpoint> endpoints, String selfNode) throws BpfException {
        Set<String> wanted = new HashSet<>();
        byAddress.clear();
        for (Endpoint e : endpoints) {
            if (!e.node().equals(selfNode) || e.iface().isEmpty()) {
                continue;
            }
            wanted.add(e.id());
            EndpointLinks links = attached.get(e.id());
            if (links == null) {
                links = dp.attachToEndpoint(e.iface().get(), e.netns().map(NetNs::named));
                attached.put(e.id(), links);
            }
            for (String address : Stream.concat(Stream.of(e.ipv4()), e.ipv6().stream()).toList()) {
                literal(address).ifPresent(a -> byAddress.put(a, attached.get(e.id())));
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

    /** Where {@code role}'s program of the local endpoint with {@code address} is attached, if one is. */
    synchronized Optional<TcxLink.Hook> hook(InetAddress address, Role role) {
        return Optional.ofNullable(byAddress.get(address))
                .map(l -> role == Role.TO_ENDPOINT ? l.toEndpoint() : l.fromEndpoint())
                .map(TcxLink::hook);
    }

    private static Optional<InetAddress> literal(String address) {
        if (address == null || address.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(InetAddress.ofLiteral(address));
        } catch (IllegalArgumentException notALiteral) {
            return Optional.empty();
        }
    }
}
