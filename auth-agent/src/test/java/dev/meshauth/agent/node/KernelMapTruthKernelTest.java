package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.cli.Main;
import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.events.Origin;
import dev.meshauth.agent.node.source.SourceConfig;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthMapLayout;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.auth.KernelAuthMap;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Feeding Cilium's datapath, the pinned map is the truth: an entry flushed by {@code meshauth bpf auth
 * flush}, deleted as Cilium's own auth GC deletes, or rewritten with a past expiry behind the agent's back
 * is re-authenticated within one GC interval, and status counts what the kernel holds.
 */
@KernelTest
class KernelMapTruthKernelTest {
    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    private static final AuthKey PAIR = new AuthKey(1001, 1002, 2, AuthType.SPIRE);
    private static final Duration GC = Duration.ofSeconds(1);

    private static long repairs(Agent a) {
        return a.events().recent().stream()
                .filter(e -> e instanceof AuthEvent.HandshakeSucceeded ok && ok.origin() == Origin.REPAIR).count();
    }

    private static Optional<AuthInfo> kernel(Path pin) throws Exception {
        try (KernelAuthMap m = KernelAuthMap.openExisting(pin, false)) {
            return m.get(PAIR);
        }
    }

    @Test
    void entriesLostOrChangedBehindTheAgentsBackAreRepairedWithinOneGcInterval(@TempDir Path dir) throws Exception {
        StarWarsFiles files = StarWarsFiles.write(dir, false);
        DevServerConfig spireConfig = DevServerConfig.under(dir.resolve("spire"), TD);
        Path pin = bpffs.resolve("truth/cilium_auth_map");
        try (DevServer spire = DevServer.start(spireConfig, InstantSource.system())) {
            assertThat(Main.run("operator", "--once", "--spire-server-socket", spireConfig.serverSocket().toString(),
                    "--endpoints", files.endpoints().toString())).isZero();
            SourceConfig src = new SourceConfig.Files(files.endpoints(), List.of(files.policy()), Optional.empty());
            AgentConfig node1 = new AgentConfig("node-1", src, spireConfig.adminSocket(), TD, files.port(), Optional.of(pin),
                    false, GC, AuthManagerOptions.DEFAULTS, Duration.ofSeconds(5), Optional.empty(), Optional.empty());
            AgentConfig node2 = files.memoryAgent("node-2", spireConfig.adminSocket(), Optional.empty(), Optional.empty());
            try (Agent a1 = Agent.start(node1, InstantSource.system()); Agent a2 = Agent.start(node2, InstantSource.system())) {
                eventually("the pair in the pinned map", Duration.ofSeconds(20), () -> kernel(pin).isPresent());

                assertThat(Main.run("bpf", "auth", "flush", "--map", pin.toString())).isZero();
                eventually("re-authenticated after a flush", Duration.ofSeconds(10), () -> kernel(pin).isPresent()
                        && repairs(a1) == 1);

                try (KernelAuthMap m = KernelAuthMap.openExisting(pin, false)) {
                    m.delete(PAIR); // as Cilium's auth GC deletes: its cache, restored at its start, judged the pair gone
                }
                eventually("re-authenticated after a deletion", Duration.ofSeconds(10), () -> kernel(pin).isPresent()
                        && repairs(a1) == 2);

                try (KernelAuthMap m = KernelAuthMap.openOrCreate(pin, AuthMapLayout.DEFAULT_MAX_ENTRIES)) {
                    m.put(PAIR, AuthInfo.expiringAt(Instant.now().minusSeconds(60)));
                }
                eventually("an expired rewrite replaced by a valid entry", Duration.ofSeconds(10),
                        () -> kernel(pin).map(i -> i.isValidAt(Instant.now())).orElse(false) && repairs(a1) >= 2);

                var status = new AgentStatusApi(a1.view()).status(false);
                assertThat(status.auth().missing()).isZero();
                assertThat(status.auth().held()).as("counted from the kernel map").isEqualTo(1);
                assertThat(status.datapath().entries()).isEqualTo(1);
            }
        }
    }
}
