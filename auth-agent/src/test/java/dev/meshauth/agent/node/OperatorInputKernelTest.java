package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.node.source.SourceConfig;
import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthMapLayout;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.auth.KernelAuthMap;
import dev.meshauth.bpf.fs.PinLock;
import dev.meshauth.bpf.testing.KernelCondition;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Scenario 8 of the reliability campaign, for the kernel side: an operator points the agent at the wrong
 * thing. Each is refused with a message that says what and where, and nothing is changed: a pinned map of
 * another layout, a path that is not on bpffs, and a second agent on a map an agent already writes.
 */
@KernelTest
class OperatorInputKernelTest {
    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();
    private static final AuthKey PAIR = new AuthKey(1001, 1002, 2, AuthType.SPIRE);

    /** An agent on {@code pin}; no SPIRE here, so it does not wait for SVIDs at start. */
    private static AgentConfig agentOn(StarWarsFiles files, Path dir, Path pin, String name) {
        AgentConfig.Tuning d = AgentConfig.Tuning.DEFAULTS;
        return new AgentConfig("node-1", new SourceConfig.Files(files.endpoints(), List.of(files.policy()), Optional.empty()),
                dir.resolve("admin.sock"), TrustDomain.parse("spiffe.cilium"), 0, Optional.of(pin), false, Duration.ofHours(1),
                AuthManagerOptions.DEFAULTS, Duration.ofSeconds(5), Optional.of(dir.resolve(name + ".sock")), Optional.empty(),
                Optional.empty(), d.withSvidWait(Duration.ZERO), new ListenAddress.NodeAddress());
    }

    private static void bpftool(String... args) throws Exception {
        Path bpftool = Path.of("/usr/sbin/bpftool");
        if (!Files.isExecutable(bpftool) && KernelCondition.required()) {
            throw new IllegalStateException("bpftool not found; .ci/run installs it (apt-get install bpftool)");
        }
        List<String> cmd = new java.util.ArrayList<>(List.of(bpftool.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("bpftool %s: %s", cmd, out).isZero();
    }

    @Test
    void aPinnedMapOfAnotherLayoutIsRefusedAndKept(@TempDir Path dir) throws Exception {
        StarWarsFiles files = StarWarsFiles.write(dir, false);
        Path pin = bpffs.resolve("layout/cilium_auth_map");
        Files.createDirectories(pin.getParent());
        bpftool("map", "create", pin.toString(), "type", "hash", "key", "8", "value", "8", "entries", "16",
                "name", "cilium_auth_map", "flags", "1");
        bpftool("map", "update", "pinned", pin.toString(), "key", "hex", "01", "00", "00", "00", "00", "00", "00", "00",
                "value", "hex", "02", "00", "00", "00", "00", "00", "00", "00");
        assertThatThrownBy(() -> Agent.start(agentOn(files, dir, pin, "a"), InstantSource.system()))
                .isInstanceOf(BpfException.class)
                .hasMessageContaining(pin.toString())
                .hasMessageContaining("does not have the layout of cilium_auth_map: key size 8 (expected 12)");
        Process dump = new ProcessBuilder("/usr/sbin/bpftool", "-j", "map", "dump", "pinned", pin.toString()).start();
        String json = new String(dump.getInputStream().readAllBytes());
        assertThat(dump.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(json)).as("its one entry is still there")
                .hasSize(1);
        assertThat(dir.resolve("a.sock")).as("nothing of the agent started").doesNotExist();
    }

    @Test
    void anAuthMapPathOffBpffsIsRefusedNamingTheFilesystem(@TempDir Path dir) throws Exception {
        StarWarsFiles files = StarWarsFiles.write(dir, false);
        Path pin = dir.resolve("maps/cilium_auth_map"); // a tmpfs or disk, not bpffs
        assertThatThrownBy(() -> Agent.start(agentOn(files, dir, pin, "a"), InstantSource.system()))
                .isInstanceOf(BpfException.class)
                .hasMessageContaining(pin.toString())
                .hasMessageContaining("bpffs");
        assertThat(dir.resolve("maps")).as("nothing was created").doesNotExist();
    }

    @Test
    void aSecondAgentOnTheSameMapIsRefusedAndTheFirstKeepsItsEntries(@TempDir Path dir) throws Exception {
        StarWarsFiles files = StarWarsFiles.write(dir, false);
        Path pin = bpffs.resolve("shared/cilium_auth_map");
        try (Agent first = Agent.start(agentOn(files, dir, pin, "first"), InstantSource.system())) {
            AuthInfo entry = AuthInfo.expiringAt(Instant.now().plusSeconds(3600));
            first.authMap().put(PAIR, entry);
            assertThatThrownBy(() -> Agent.start(agentOn(files, dir, pin, "second"), InstantSource.system()))
                    .isInstanceOf(BpfException.class)
                    .hasMessageContaining(pin.toString())
                    .hasMessageContaining("another meshauth agent on this node has it open for writing")
                    .hasMessageContaining("--auth-map");
            assertThat(dir.resolve("second.sock")).doesNotExist();
            try (KernelAuthMap m = KernelAuthMap.openExisting(pin, true)) {
                assertThat(m.get(PAIR)).as("the refused agent touched nothing").contains(entry);
            }
            assertThat(first.authMap().get(PAIR)).contains(entry);
        }
        // The first one gone, its lock is gone with it: the next agent takes the map.
        try (Agent next = Agent.start(agentOn(files, dir, pin, "next"), InstantSource.system())) {
            assertThat(next.authMap().maxEntries()).isEqualTo(AuthMapLayout.DEFAULT_MAX_ENTRIES);
        }
    }

    @Test
    void aLockHolderThatDiesWithoutClosingReleasesTheMap() throws Exception {
        // The kernel drops a flock with its holder: a process that takes the lock and is SIGKILLed.
        Path pin = bpffs.resolve("killed/cilium_auth_map");
        Files.createDirectories(pin.getParent());
        Path lockDir = PinLock.lockDirOf(pin);
        Files.createDirectories(lockDir);
        // --no-fork: flock(1) execs sleep itself, so the process killed is the one holding the lock.
        Process holder = new ProcessBuilder("flock", "--no-fork", "--exclusive", "--nonblock", lockDir.toString(), "sleep",
                "600")
                .redirectErrorStream(true).start();
        try {
            dev.meshauth.testing.Eventually.eventually("the holder has the lock", Duration.ofSeconds(10), () -> {
                try (PinLock ignored = PinLock.acquire(pin)) {
                    return false;
                } catch (BpfException e) {
                    return e.getMessage().contains("another meshauth agent");
                }
            });
        } finally {
            holder.destroyForcibly();
            holder.waitFor(10, TimeUnit.SECONDS);
        }
        try (PinLock lock = PinLock.acquire(pin)) {
            assertThat(lock.dir()).isEqualTo(lockDir);
        }
    }
}
