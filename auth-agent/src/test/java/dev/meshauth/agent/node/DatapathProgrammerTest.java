package dev.meshauth.agent.node;

import dev.meshauth.bpf.datapath.Direction;
import dev.meshauth.bpf.datapath.EndpointPolicy;
import dev.meshauth.bpf.datapath.IpPrefix;
import dev.meshauth.bpf.datapath.IpcacheEntry;
import dev.meshauth.bpf.datapath.LookupStep;
import dev.meshauth.bpf.datapath.PolicyKey;
import dev.meshauth.bpf.datapath.PolicyMode;
import dev.meshauth.bpf.datapath.PolicyVerdict;
import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.endpoint.NodeInfo;
import dev.meshauth.policy.eval.PolicyEngine;
import dev.meshauth.policy.yaml.PolicyParser;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reprogramming is make before break: after every single write, each packet gets the verdict of the old
 * programming or of the new one, never a drop that neither gives.
 */
class DatapathProgrammerTest {
    private static final NodeInfo SELF = new NodeInfo("node-1", 1, "127.0.0.1");
    private static final List<NodeInfo> NODES = List.of(SELF, new NodeInfo("node-2", 2, "127.0.0.2"));
    private static final Endpoint DEATHSTAR = endpoint("deathstar", 1001, "node-1", "198.18.1.10", "deathstar");
    private static final Endpoint TIEFIGHTER = endpoint("tiefighter", 1002, "node-2", "198.18.2.20", "tiefighter");
    private static final Endpoint PROBE = endpoint("probe", 1004, "node-1", "198.18.1.40", "probe");
    /** Packets probed after every write: local, remote, port, protocol. */
    private static final long[][] PROBES = {{1001, 1002, 80, 6}, {1001, 1002, 443, 6}, {1004, 1002, 80, 6}, {1001, 1004, 80, 6}};

    private static Endpoint endpoint(String name, long id, String node, String ip, String cls) {
        return new Endpoint(name, "default", Map.of("org", "empire", "class", cls, "io.kubernetes.pod.namespace", "default"),
                id, node, ip, Optional.empty(),
                Optional.empty());
    }

    /** The standalone datapath's tables in memory, checking an invariant after every write. Real: KernelDatapathTables. */
    private static final class RecordingDatapathTables implements DatapathTables {
        final Map<IpPrefix, IpcacheEntry> ipcache = new HashMap<>();
        final Map<Long, EndpointPolicy> enforced = new HashMap<>();
        final Map<PolicyKey, PolicyVerdict> policy = new HashMap<>();
        final List<String> writes = new ArrayList<>();
        Runnable afterWrite = () -> { };

        private void wrote(String what) {
            writes.add(what);
            afterWrite.run();
        }

        @Override
        public Map<IpPrefix, IpcacheEntry> ipcache() {
            return Map.copyOf(ipcache);
        }

        @Override
        public void putIpcache(IpPrefix prefix, IpcacheEntry entry) {
            ipcache.put(prefix, entry);
            wrote("ipcache+ " + prefix);
        }

        @Override
        public void removeIpcache(IpPrefix prefix) {
            ipcache.remove(prefix);
            wrote("ipcache- " + prefix);
        }

        @Override
        public Map<Long, EndpointPolicy> endpointPolicies() {
            return Map.copyOf(enforced);
        }

        @Override
        public void setEndpointPolicy(long identity, EndpointPolicy p) {
            if (!p.equals(EndpointPolicy.NONE)) {
                enforced.put(identity, p);
            } else {
                enforced.remove(identity);
            }
            wrote((!p.equals(EndpointPolicy.NONE) ? "enforce+ " : "enforce- ") + identity);
        }

        @Override
        public Map<PolicyKey, PolicyVerdict> policy() {
            return Map.copyOf(policy);
        }

        @Override
        public void putPolicy(PolicyKey key, PolicyVerdict verdict) {
            policy.put(key, verdict);
            wrote("policy+ " + key);
        }

        @Override
        public void removePolicy(PolicyKey key) {
            policy.remove(key);
            wrote("policy- " + key);
        }

        /**
         * The datapath's ingress verdict, probing in the order the program is assembled with, the longest
         * (protocol, port prefix) match within each probe as its LPM trie finds it.
         */
        String verdict(long local, long remote, int port, int protocol) {
            EndpointPolicy mode = enforced.get(local);
            if (mode == null || mode.ingress() == PolicyMode.NONE) {
                return "allow";
            }
            for (LookupStep s : PolicyLookupOrder.forDatapath()) {
                long r = s.anyRemote() ? 0 : remote;
                List<PolicyKey> candidates = new ArrayList<>();
                for (int len = 16; len >= 0; len--) {
                    int mask = len == 0 ? 0 : (0xFFFF << (16 - len)) & 0xFFFF;
                    candidates.add(new PolicyKey(local, r, protocol, port & mask, len, Direction.INGRESS));
                }
                candidates.add(PolicyKey.anyProtocol(local, r, Direction.INGRESS));
                for (PolicyKey k : candidates) {
                    PolicyVerdict v = policy.get(k);
                    if (v != null) {
                        return v.deny() ? "deny" : "allow auth=" + v.authType();
                    }
                }
            }
            return mode.ingress() == PolicyMode.DEFAULT_DENY ? "drop" : "allow";
        }

        List<String> verdicts() {
            List<String> out = new ArrayList<>();
            for (long[] p : PROBES) {
                out.add(verdict(p[0], p[1], (int) p[2], (int) p[3]));
            }
            return out;
        }
    }

    private static PolicyEngine engine(List<Endpoint> endpoints, String yaml) throws Exception {
        return PolicyEngine.evaluate(PolicyParser.parse("p.yaml", yaml).policies(), endpoints);
    }

    private static void program(DatapathTables t, List<Endpoint> endpoints, PolicyEngine e) throws Exception {
        Set<Long> local = new HashSet<>();
        endpoints.stream().filter(x -> x.node().equals(SELF.name())).forEach(x -> local.add(x.identity()));
        DatapathProgrammer.apply(t, NODES, endpoints, e, SELF, local);
    }

    @Test
    void everyIntermediateStateGivesEachPacketTheOldOrTheNewVerdict() throws Exception {
        List<Endpoint> before = List.of(DEATHSTAR, TIEFIGHTER);
        PolicyEngine old = engine(before, """
                apiVersion: cilium.io/v2
                kind: CiliumNetworkPolicy
                metadata: {name: rule1}
                spec:
                  endpointSelector: {matchLabels: {class: deathstar}}
                  ingress:
                  - fromEndpoints: [{matchLabels: {class: tiefighter}}]
                    authentication: {mode: required}
                    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
                """);
        List<Endpoint> after = List.of(DEATHSTAR, TIEFIGHTER, PROBE);
        PolicyEngine next = engine(after, """
                apiVersion: cilium.io/v2
                kind: CiliumNetworkPolicy
                metadata: {name: rule1}
                spec:
                  endpointSelector: {matchLabels: {class: deathstar}}
                  ingress:
                  - fromEndpoints: [{matchLabels: {class: tiefighter}}]
                    authentication: {mode: required}
                ---
                apiVersion: cilium.io/v2
                kind: CiliumNetworkPolicy
                metadata: {name: rule2}
                spec:
                  endpointSelector: {matchLabels: {class: probe}}
                  ingress:
                  - fromEndpoints: [{matchLabels: {class: tiefighter}}]
                    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
                """);
        RecordingDatapathTables target = new RecordingDatapathTables();
        program(target, after, next);
        List<String> newVerdicts = target.verdicts();

        RecordingDatapathTables t = new RecordingDatapathTables();
        program(t, before, old);
        List<String> oldVerdicts = t.verdicts();
        assertThat(oldVerdicts).as("the change matters to every probe but the last").isNotEqualTo(newVerdicts);
        Map<IpPrefix, IpcacheEntry> oldIpcache = Map.copyOf(t.ipcache);
        List<String> violations = new ArrayList<>();
        t.writes.clear();
        t.afterWrite = () -> {
            List<String> now = t.verdicts();
            for (int i = 0; i < PROBES.length; i++) {
                if (!now.get(i).equals(oldVerdicts.get(i)) && !now.get(i).equals(newVerdicts.get(i))) {
                    violations.add("after " + t.writes.getLast() + ": probe " + java.util.Arrays.toString(PROBES[i]) + " "
                            + now.get(i) + " (old " + oldVerdicts.get(i) + ", new " + newVerdicts.get(i) + ")");
                }
            }
            oldIpcache.forEach((ip, e) -> {
                if (!t.ipcache.containsKey(ip) && target.ipcache.containsKey(ip)) {
                    violations.add("after " + t.writes.getLast() + ": " + ip + " left the ipcache although it stays");
                }
            });
        };
        program(t, after, next);
        assertThat(violations).isEmpty();
        assertThat(t.verdicts()).isEqualTo(newVerdicts);
        assertThat(t.policy).isEqualTo(target.policy);
        assertThat(t.enforced).isEqualTo(target.enforced);
    }

    @Test
    void reprogrammingTheSameViewWritesNothing() throws Exception {
        List<Endpoint> eps = List.of(DEATHSTAR, TIEFIGHTER);
        PolicyEngine e = engine(eps, """
                apiVersion: cilium.io/v2
                kind: CiliumNetworkPolicy
                metadata: {name: rule1}
                spec:
                  endpointSelector: {matchLabels: {class: deathstar}}
                  ingress:
                  - fromEndpoints: [{matchLabels: {class: tiefighter}}]
                    authentication: {mode: required}
                """);
        RecordingDatapathTables t = new RecordingDatapathTables();
        program(t, eps, e);
        t.writes.clear();
        program(t, eps, e);
        assertThat(t.writes).isEmpty();
    }

    @Test
    void anEndpointOfANodeWithoutAnIdIsLeftOutOfTheIpcacheNeverTakenForThisNode() throws Exception {
        Endpoint stray = endpoint("stray", 1009, "node-9", "198.18.9.90", "stray"); // node-9: not numbered yet
        List<Endpoint> eps = List.of(DEATHSTAR, TIEFIGHTER, stray);
        RecordingDatapathTables t = new RecordingDatapathTables();
        program(t, eps, engine(eps, """
                apiVersion: cilium.io/v2
                kind: CiliumNetworkPolicy
                metadata: {name: rule1}
                spec:
                  endpointSelector: {matchLabels: {class: deathstar}}
                  ingress:
                  - fromEndpoints: [{matchLabels: {org: empire}}]
                """));
        assertThat(t.ipcache).containsEntry(IpPrefix.host("198.18.1.10"), new IpcacheEntry(1001, 0))
                .containsEntry(IpPrefix.host("198.18.2.20"), new IpcacheEntry(1002, 2))
                .doesNotContainKey(IpPrefix.host("198.18.9.90"));
    }
}
