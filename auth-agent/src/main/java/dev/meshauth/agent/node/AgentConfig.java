package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.node.source.SourceConfig;
import dev.meshauth.bpf.datapath.ConntrackTimeouts;
import dev.meshauth.bpf.datapath.DatapathOptions;
import io.spiffe.spiffeid.TrustDomain;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * What {@code meshauth agent} runs with.
 *
 * @param nodeName       which node (of the endpoints file or the cluster's CiliumNodes) this agent serves
 * @param source         where nodes, endpoints, identities and policies come from
 * @param adminSocket    the SPIRE agent's admin socket (Delegated Identity API)
 * @param trustDomain    the trust domain
 * @param port           mutual auth listener port (Cilium: 4250)
 * @param authMap        pin path of the auth map; empty for the in-memory map ({@code --datapath memory})
 * @param standalone     also run meshauth's own enforcement program ({@code --datapath standalone})
 * @param gcInterval     garbage collection interval
 * @param manager        auth manager settings
 * @param connectTimeout mutual auth connect timeout
 * @param statusSocket   the local status API's Unix socket, if served
 * @param metrics        the Prometheus endpoint's address, if served
 * @param ciliumNodeMap  Cilium's pinned node map, to key entries with Cilium's node ids (feeding Cilium's
 *                       datapath); empty: node ids of the source (meshauth's own datapath, or none)
 * @param tuning         map sizes, conntrack timeouts and the policy evaluation budget
 * @param listen         where the mutual auth listener binds
 */
public record AgentConfig(String nodeName, SourceConfig source, Path adminSocket, TrustDomain trustDomain, int port,
        Optional<Path> authMap, boolean standalone, Duration gcInterval, AuthManagerOptions manager, Duration connectTimeout,
        Optional<Path> statusSocket, Optional<InetSocketAddress> metrics, Optional<Path> ciliumNodeMap, Tuning tuning,
        ListenAddress listen) {
    /**
     * Sizes and budgets, Cilium's flag names where they mean the same.
     *
     * @param policyMapMax     {@code --bpf-policy-map-max}: the standalone datapath's policy map
     * @param conntrackMax     {@code --bpf-ct-global-max}: its connection tracking map
     * @param ctTimeouts       {@code --bpf-ct-timeout-regular-*}
     * @param evaluationBudget {@code --policy-evaluation-budget}: how long one policy evaluation may take
     * @param svidWait         {@code --mesh-auth-svid-wait}: at start, how long to wait for the local identities'
     *                         SVIDs before authenticating anyway
     * @param holdSyns         {@code --mesh-auth-hold-syn}: the standalone datapath hands each SYN it drops for a
     *                         missing auth entry to the agent, which puts it back once the pair is authenticated
     */
    public record Tuning(int policyMapMax, int conntrackMax, ConntrackTimeouts ctTimeouts, Duration evaluationBudget,
            Duration svidWait, boolean holdSyns) {
        /** The defaults. */
        public static final Tuning DEFAULTS = new Tuning(DatapathOptions.DEFAULT_POLICY_ENTRIES,
                DatapathOptions.DEFAULT_CONNTRACK_ENTRIES, ConntrackTimeouts.DEFAULTS, EvaluationBudget.DEFAULT_LIMIT,
                Duration.ofSeconds(10), true);

        /** Checks. */
        public Tuning {
            if (policyMapMax <= 0 || conntrackMax <= 0) {
                throw new IllegalArgumentException("map sizes must be positive");
            }
            if (evaluationBudget.isNegative() || evaluationBudget.isZero()) {
                throw new IllegalArgumentException("the policy evaluation budget must be positive");
            }
            if (svidWait.isNegative()) {
                throw new IllegalArgumentException("the SVID wait must not be negative");
            }
        }

        /** The same tuning with another SVID wait. */
        public Tuning withSvidWait(Duration wait) {
            return new Tuning(policyMapMax, conntrackMax, ctTimeouts, evaluationBudget, wait, holdSyns);
        }

        /** The same tuning with SYNs held or not. */
        public Tuning withHeldSyns(boolean on) {
            return new Tuning(policyMapMax, conntrackMax, ctTimeouts, evaluationBudget, svidWait, on);
        }
    }

    /**
     * With default tuning, the listener on the node's InternalIP: for several agents on one host (the demo,
     * tests); {@code meshauth agent} binds every address by default.
     */
    public AgentConfig(String nodeName, SourceConfig source, Path adminSocket, TrustDomain trustDomain, int port,
            Optional<Path> authMap, boolean standalone, Duration gcInterval, AuthManagerOptions manager, Duration connectTimeout,
            Optional<Path> statusSocket, Optional<InetSocketAddress> metrics, Optional<Path> ciliumNodeMap) {
        this(nodeName, source, adminSocket, trustDomain, port, authMap, standalone, gcInterval, manager, connectTimeout,
                statusSocket, metrics, ciliumNodeMap, Tuning.DEFAULTS, new ListenAddress.NodeAddress());
    }

    /** Checks. */
    public AgentConfig {
        if (standalone && authMap.isEmpty()) {
            throw new IllegalArgumentException("the standalone datapath needs the pinned auth map (--auth-map), not memory");
        }
        if (standalone && ciliumNodeMap.isPresent()) {
            throw new IllegalArgumentException("meshauth's own datapath keys entries with the source's node ids, not Cilium's");
        }
    }

    /** Node ids from the source. */
    public AgentConfig(String nodeName, SourceConfig source, Path adminSocket, TrustDomain trustDomain, int port,
            Optional<Path> authMap, boolean standalone, Duration gcInterval, AuthManagerOptions manager, Duration connectTimeout,
            Optional<Path> statusSocket, Optional<InetSocketAddress> metrics) {
        this(nodeName, source, adminSocket, trustDomain, port, authMap, standalone, gcInterval, manager, connectTimeout,
                statusSocket, metrics, Optional.empty());
    }

    /** The datapath mode. */
    public DatapathMode datapathMode() {
        return standalone ? DatapathMode.STANDALONE : authMap.isPresent() ? DatapathMode.CILIUM : DatapathMode.MEMORY;
    }
}
