package dev.meshauth.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meshauth.bpf.testing.KernelCondition;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code meshauth bpf auth list|flush} on maps written by another program: bpftool creates the map and
 * its entries with raw bytes, so nothing of ours produces the expected output.
 */
@KernelTest
class BpfAuthCliKernelTest {
    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();
    private static Path bpftool;

    @BeforeAll
    static void setUp() throws Exception {
        bpftool = Path.of("/usr/sbin/bpftool");
        if (!Files.isExecutable(bpftool) && KernelCondition.required()) {
            throw new IllegalStateException("bpftool not found; .ci/run installs it (apt-get install bpftool)");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(bpftool), "bpftool not installed");
    }

    private static void bpftool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(bpftool.toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("bpftool %s: %s", cmd, out).isZero();
    }

    /** Creates a map with Cilium's layout the way Cilium's agent would, but with bpftool. */
    private static Path foreignAuthMap(String name) throws Exception {
        Path pin = bpffs.resolve(name);
        bpftool("map", "create", pin.toString(), "type", "hash", "key", "12", "value", "8", "entries", "1024",
                "name", "cilium_auth_map", "flags", "1");
        return pin;
    }

    private static void put(Path pin, int local, int remote, int node, int type, long expirationTicks) throws Exception {
        byte[] key = ByteBuffer.allocate(12).order(ByteOrder.nativeOrder())
                .putInt(local).putInt(remote).putShort((short) node).put((byte) type).put((byte) 0).array();
        byte[] value = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(expirationTicks).array();
        List<String> args = new ArrayList<>(List.of("map", "update", "pinned", pin.toString(), "key", "hex"));
        for (byte b : key) {
            args.add(HexFormat.of().toHexDigits(b));
        }
        args.add("value");
        args.add("hex");
        for (byte b : value) {
            args.add(HexFormat.of().toHexDigits(b));
        }
        bpftool(args.toArray(String[]::new));
    }

    // 2100-01-01T00:00:00Z = 4102444800 s (date -u -d @4102444800); in utime ticks: seconds * 1953125.
    private static final long EXP_TICKS = 4_102_444_800L * 1_953_125L;
    // 2001-09-09T01:46:40Z = 10^9 s: long expired.
    private static final long PAST_TICKS = 1_000_000_000L * 1_953_125L;

    @Test
    void listPrintsForeignEntriesAsJson() throws Exception {
        Path pin = foreignAuthMap("json_map");
        put(pin, 12345, 54321, 7, 1, EXP_TICKS + 1); // one tick = 512 ns past the second
        put(pin, 4000, 3000, 0, 2, EXP_TICKS);

        CliRun r = CliRun.of("bpf", "auth", "list", "--map", pin.toString(), "-o", "json");

        assertThat(r.code()).as(r.err()).isZero();
        JsonNode list = new ObjectMapper().readTree(r.out());
        assertThat(list).hasSize(2);
        JsonNode first = list.get(0); // sorted by local identity
        assertThat(first.get("localIdentity").asLong()).isEqualTo(4000);
        assertThat(first.get("remoteIdentity").asLong()).isEqualTo(3000);
        assertThat(first.get("remoteNodeId").asInt()).isZero();
        assertThat(first.get("authType").asText()).isEqualTo("test-always-fail");
        assertThat(first.get("expiration").asText()).isEqualTo("2100-01-01T00:00:00Z");
        JsonNode second = list.get(1);
        assertThat(second.get("localIdentity").asLong()).isEqualTo(12345);
        assertThat(second.get("remoteNodeId").asInt()).isEqualTo(7);
        assertThat(second.get("authType").asText()).isEqualTo("spire");
        assertThat(second.get("expiration").asText()).isEqualTo("2100-01-01T00:00:00.000000512Z");
    }

    @Test
    void listPrintsATableWithCiliumsColumns() throws Exception {
        Path pin = foreignAuthMap("table_map");
        put(pin, 256, -1, 65535, 1, EXP_TICKS); // remote 0xffffffff: printed unsigned

        CliRun r = CliRun.of("bpf", "auth", "list", "--map", pin.toString());

        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0).split("\\s{2,}"))
                .containsExactly("LOCAL IDENTITY", "REMOTE IDENTITY", "REMOTE NODE ID", "AUTH TYPE", "EXPIRATION");
        assertThat(lines.get(1).split("\\s+"))
                .containsExactly("256", "4294967295", "65535", "spire", "2100-01-01T00:00:00Z");
    }

    @Test
    void expiredEntriesAreMarkedInTheTable() throws Exception {
        Path pin = foreignAuthMap("expired_map");
        put(pin, 300, 400, 2, 1, PAST_TICKS);
        CliRun r = CliRun.of("bpf", "auth", "list", "--map", pin.toString());
        assertThat(r.out().lines().skip(1).findFirst().orElseThrow())
                .endsWith("2001-09-09T01:46:40Z (expired)");
    }

    @Test
    void emptyMapSaysSoOnStderr() throws Exception {
        Path pin = foreignAuthMap("empty_map");
        CliRun r = CliRun.of("bpf", "auth", "list", "--map", pin.toString());
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).isEqualTo("No entries found.\n");
    }

    @Test
    void flushDeletesEveryEntry() throws Exception {
        Path pin = foreignAuthMap("flush_map");
        for (int i = 0; i < 10; i++) {
            put(pin, 1000 + i, 2000, 1, 1, EXP_TICKS);
        }
        CliRun r = CliRun.of("bpf", "auth", "flush", "--map", pin.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("Flushed 10 entries\n");
        CliRun after = CliRun.of("bpf", "auth", "list", "--map", pin.toString(), "-o", "json");
        assertThat(new ObjectMapper().readTree(after.out())).isEmpty();
    }

    @Test
    void missingMapFailsWithAClearMessage() {
        Path pin = bpffs.resolve("no_such_map");
        CliRun r = CliRun.of("bpf", "auth", "list", "--map", pin.toString());
        assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
        assertThat(r.err()).isEqualTo("meshauth: BPF_OBJ_GET on " + pin + ": ENOENT (No such file or directory):"
                + " nothing is pinned at that path: is the agent that creates it running, and is the path right?\n");
    }

    @Test
    void mapWithAnotherLayoutIsRefusedAndKept() throws Exception {
        Path pin = bpffs.resolve("other_layout");
        bpftool("map", "create", pin.toString(), "type", "hash", "key", "8", "value", "8", "entries", "16",
                "name", "cilium_auth_map", "flags", "1");
        bpftool("map", "update", "pinned", pin.toString(), "key", "hex", "01", "00", "00", "00", "00", "00", "00", "00",
                "value", "hex", "02", "00", "00", "00", "00", "00", "00", "00");

        CliRun list = CliRun.of("bpf", "auth", "list", "--map", pin.toString());
        CliRun flush = CliRun.of("bpf", "auth", "flush", "--map", pin.toString());

        assertThat(list.code()).isEqualTo(ExitCodes.FAILURE);
        assertThat(list.err()).contains("does not have the layout of cilium_auth_map: key size 8 (expected 12)");
        assertThat(flush.code()).isEqualTo(ExitCodes.FAILURE);
        // bpftool still finds the one entry: the refusal changed nothing.
        Process p = new ProcessBuilder(bpftool.toString(), "-j", "map", "dump", "pinned", pin.toString()).start();
        JsonNode dump = new ObjectMapper().readTree(p.getInputStream());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(dump).hasSize(1);
    }

    @Test
    void unknownOutputFormatIsAUsageError() {
        CliRun r = CliRun.of("bpf", "auth", "list", "-o", "xml");
        assertThat(r.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("Invalid value for option '--output'").contains("table, json");
    }
}
