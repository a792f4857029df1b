package dev.meshauth.bench;

import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.model.Direction;
import dev.meshauth.policy.model.Policy;
import dev.meshauth.policy.model.PortProtocol;
import dev.meshauth.policy.model.Protocol;
import dev.meshauth.policy.model.Rule;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmark's anchor, not product code: how the engine treated ranges before they became port/prefix
 * keys, reduced to what costs time. One key per port and protocol (ANY: TCP and UDP), then every entry of
 * a local identity compared with every other for deny and auth propagation. Returns the entry count.
 */
final class PerPortAnchor {
    private PerPortAnchor() {
    }

    private record Key(long local, long remote, int port, int protocol) {
        boolean covers(Key k) {
            return local == k.local && (remote == 0 || remote == k.remote) && (port == 0 || port == k.port)
                    && (protocol == 0 || protocol == k.protocol);
        }
    }

    static int evaluate(List<Policy> policies, List<Endpoint> endpoints) {
        Map<Long, List<Key>> byLocal = new HashMap<>();
        for (Policy p : policies) {
            for (Endpoint local : endpoints) {
                if (!p.subject().matches(local.labels())) {
                    continue;
                }
                for (Rule r : p.rules()) {
                    if (r.direction() != Direction.INGRESS) {
                        continue;
                    }
                    for (Endpoint remote : endpoints) {
                        if (!r.peers().any() && r.peers().endpoints().stream().noneMatch(s -> s.matches(remote.labels()))) {
                            continue;
                        }
                        for (PortProtocol pp : r.ports()) {
                            for (int port = pp.port(); port <= pp.endPort(); port++) {
                                for (int proto : pp.protocol() == Protocol.ANY ? new int[] {6, 17} : new int[] {pp.protocol().number()}) {
                                    byLocal.computeIfAbsent(local.identity(), x -> new ArrayList<>())
                                            .add(new Key(local.identity(), remote.identity(), port, proto));
                                }
                            }
                        }
                    }
                }
            }
        }
        int entries = 0;
        long covered = 0;
        for (List<Key> keys : byLocal.values()) {
            for (Key k : keys) {
                for (Key o : keys) { // the all-pairs pass
                    if (o != k && o.covers(k)) {
                        covered++;
                    }
                }
            }
            entries += keys.size();
        }
        return covered < 0 ? -1 : entries;
    }
}
