package dev.meshauth.bpf.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.map.BpfMap;
import dev.meshauth.bpf.map.MapSpec;
import dev.meshauth.bpf.map.MapType;
import dev.meshauth.bpf.testing.KernelCondition;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The pinned {@code cilium_auth_map}: persistence across handles and processes, layout checks, BTF. */
@KernelTest
class KernelAuthMapKernelTest {
    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();

    private static final Instant EXP = Instant.parse("2026-11-26T13:00:00Z");

    @Test
    void entriesSurviveTheHandleAndAreSeenByASecondJvm() throws Exception {
        Path pin = bpffs.resolve("tc/globals/cilium_auth_map");
        try (KernelAuthMap m = KernelAuthMap.openOrCreate(pin, 1024)) {
            m.put(new AuthKey(1001, 2002, 3, AuthType.SPIRE), AuthInfo.expiringAt(EXP));
        }
        // A separate process, as a restarted agent or the CLI would be.
        ProcessResult r = runProbe(pin.toString(), "put", "3003", "4004", "5");
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("1001 2002 3 spire " + EXP);

        try (KernelAuthMap again = KernelAuthMap.openOrCreate(pin, 1024)) {
            assertThat(again.get(new AuthKey(3003, 4004, 5, AuthType.SPIRE))).map(AuthInfo::expiresAt).contains(EXP);
            assertThat(again.entries()).hasSize(2);
            assertThat(again.maxEntries()).isEqualTo(1024);
        }
    }

    @Test
    void openingKeepsTheExistingSizeAndNeverRecreates() throws Exception {
        Path pin = bpffs.resolve("sized_auth_map");
        int id;
        try (KernelAuthMap m = KernelAuthMap.openOrCreate(pin, 512)) {
            id = m.typed().raw().info().id();
        }
        try (KernelAuthMap m = KernelAuthMap.openOrCreate(pin, 4096)) {
            assertThat(m.typed().raw().info().id()).isEqualTo(id);
            assertThat(m.maxEntries()).isEqualTo(512);
        }
    }

    @Test
    void existingMapWithAnotherLayoutIsRefusedWithWhatDiffers() throws Exception {
        Path pin = bpffs.resolve("imposter_auth_map");
        try (BpfMap imposter = BpfMap.create(MapSpec.of("cilium_auth_map", MapType.LRU_HASH, 12, 16, 256, 0))) {
            imposter.pin(pin);
        }
        assertThatThrownBy(() -> KernelAuthMap.openOrCreate(pin, 1024))
                .isInstanceOf(BpfException.class)
                .hasMessageStartingWith("open pinned map on " + pin + ": the map pinned there (cilium_auth_map, id ")
                .hasMessageContaining("type lru_hash (expected hash), value size 16 (expected 8), flags 0x0 (expected 0x1)")
                .hasMessageContaining("bpftool map show pinned " + pin);
        assertThatThrownBy(() -> KernelAuthMap.openExisting(pin, true)).hasMessageContaining("does not have the layout");
    }

    @Test
    void bpftoolPrintsOurBtfFieldNames() throws Exception {
        Path pin = bpffs.resolve("btf_auth_map");
        try (KernelAuthMap m = KernelAuthMap.openOrCreate(pin, 256)) {
            m.put(new AuthKey(70000, 80000, 9, AuthType.SPIRE), AuthInfo.expiringAt(EXP));
        }
        Path bpftool = findBpftool();
        ProcessResult r = run(List.of(bpftool.toString(), "-j", "map", "dump", "pinned", pin.toString()));
        assertThat(r.exitCode()).as(r.output()).isZero();
        JsonNode dump = new ObjectMapper().readTree(r.output());
        JsonNode entry = dump.get(0);
        JsonNode key = entry.has("formatted") ? entry.get("formatted").get("key") : entry.get("key");
        JsonNode value = entry.has("formatted") ? entry.get("formatted").get("value") : entry.get("value");
        assertThat(key.get("local_sec_label").asLong()).isEqualTo(70000);
        assertThat(key.get("remote_sec_label").asLong()).isEqualTo(80000);
        assertThat(key.get("remote_node_id").asInt()).isEqualTo(9);
        assertThat(key.get("auth_type").asInt()).isEqualTo(1);
        assertThat(key.get("pad").asInt()).isZero();
        assertThat(value.get("expiration").asLong()).isEqualTo(UTime.fromInstant(EXP).ticks());
    }

    private static Path findBpftool() {
        for (String p : List.of("/usr/sbin/bpftool", "/usr/bin/bpftool", "/usr/local/sbin/bpftool")) {
            if (Files.isExecutable(Path.of(p))) {
                return Path.of(p);
            }
        }
        if (KernelCondition.required()) {
            throw new IllegalStateException("bpftool not found; .ci/run installs it (apt-get install bpftool)");
        }
        Assumptions.abort("bpftool not installed (apt-get install bpftool)");
        return null;
    }

    record ProcessResult(int exitCode, String output) {
    }

    private static ProcessResult runProbe(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"),
                PinnedAuthMapProbe.class.getName()));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    private static ProcessResult run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("timed out: " + cmd);
        }
        return new ProcessResult(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

}
