package dev.meshauth.bpf.datapath;

import dev.meshauth.bpf.auth.AuthMapLayout;
import dev.meshauth.bpf.auth.KernelAuthMap;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A datapath whose start fails part-way leaves no program or map descriptor behind. */
@KernelTest
class DatapathCreateFailureKernelTest {
    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();

    /** This process's descriptors of BPF objects, by kind (anon_inode:bpf-prog, anon_inode:bpf-map, ...). */
    private static Map<String, Integer> bpfDescriptors() throws IOException {
        Map<String, Integer> out = new TreeMap<>();
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("anon_inode:bpf")) {
                        out.merge(target, 1, Integer::sum);
                    }
                } catch (IOException e) {
                    // closed while listing
                }
            }
        }
        return out;
    }

    @Test
    void aClockSyncFailureClosesTheLoadedProgramAndItsMaps() throws Exception {
        try (KernelAuthMap auth = KernelAuthMap.openOrCreate(bpffs.resolve("fail/cilium_auth_map"),
                AuthMapLayout.DEFAULT_MAX_ENTRIES)) {
            Map<String, Integer> before = bpfDescriptors();
            InstantSource broken = () -> {
                throw new IllegalStateException("wall clock unavailable");
            };
            ClockOffset clock = new ClockOffset(broken, System::nanoTime);
            assertThatThrownBy(() -> Datapath.create(auth, TestOptions.DEFAULTS, clock))
                    .hasMessageContaining("wall clock unavailable");
            assertThat(bpfDescriptors()).isEqualTo(before);
        }
    }
}
