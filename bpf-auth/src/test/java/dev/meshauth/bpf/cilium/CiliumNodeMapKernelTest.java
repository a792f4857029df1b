package dev.meshauth.bpf.cilium;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.map.BpfMap;
import dev.meshauth.bpf.map.MapFlags;
import dev.meshauth.bpf.map.MapSpec;
import dev.meshauth.bpf.map.MapType;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading node ids from a map with Cilium's node map layout, written by another program (bpftool). */
@KernelTest
class CiliumNodeMapKernelTest {
    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();

    private static void bpftool(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("bpftool"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
    }

    private static Inet4Address ip(String s) throws Exception {
        return (Inet4Address) InetAddress.getByName(s);
    }

    @Test
    void idsAreReadAsCiliumsDatapathReadsThem() throws Exception {
        Path pin = bpffs.resolve("tc/globals/cilium_node_map_v2");
        try (BpfMap m = BpfMap.create(CiliumNodeMap.SPEC)) {
            m.pin(pin);
        }
        // node_v4_add_entry(198.18.9.2, id 5): pad1 pad2, family 1, ip4 big-endian, 12 bytes of padding; id u16 native.
        bpftool("map", "update", "pinned", pin.toString(), "key", "hex", "00", "00", "00", "01", "c6", "12", "09", "02",
                "00", "00", "00", "00", "00", "00", "00", "00", "00", "00", "00", "00", "value", "hex", "05", "00", "00", "00");
        // An IPv6 key and an id-0 entry must not be mistaken for nodes.
        bpftool("map", "update", "pinned", pin.toString(), "key", "hex", "00", "00", "00", "02", "c6", "12", "09", "03",
                "00", "00", "00", "00", "00", "00", "00", "00", "00", "00", "00", "01", "value", "hex", "07", "00", "00", "00");
        bpftool("map", "update", "pinned", pin.toString(), "key", "hex", "00", "00", "00", "01", "c6", "12", "09", "04",
                "00", "00", "00", "00", "00", "00", "00", "00", "00", "00", "00", "00", "value", "hex", "00", "00", "00", "00");
        bpftool("map", "update", "pinned", pin.toString(), "key", "hex", "00", "00", "00", "01", "c6", "12", "09", "05",
                "00", "00", "00", "00", "00", "00", "00", "00", "00", "00", "00", "00", "value", "hex", "2c", "01", "00", "00");
        try (CiliumNodeMap nodes = CiliumNodeMap.open(pin)) {
            assertThat(nodes.nodeId(ip("198.18.9.2"))).contains(5);
            assertThat(nodes.nodeId(ip("198.18.9.5"))).contains(300);
            assertThat(nodes.nodeId(ip("198.18.9.3"))).as("only an IPv6 key for that address").isEmpty();
            assertThat(nodes.nodeId(ip("198.18.9.4"))).as("id 0 means none").isEmpty();
            assertThat(nodes.nodeId(ip("198.18.9.9"))).isEmpty();
        }
    }

    @Test
    void aMapWithAnotherLayoutOrNoMapIsRefused() throws Exception {
        Path pin = bpffs.resolve("tc/globals/not_a_node_map");
        try (BpfMap m = BpfMap.create(MapSpec.of("other", MapType.HASH, 16, 4, 16, MapFlags.NO_PREALLOC))) {
            m.pin(pin);
        }
        assertThatThrownBy(() -> CiliumNodeMap.open(pin)).isInstanceOf(BpfException.class)
                .hasMessageContaining("key size 16 (expected 20)");
        assertThatThrownBy(() -> CiliumNodeMap.open(bpffs.resolve("tc/globals/missing"))).isInstanceOf(BpfException.class)
                .hasMessageContaining("ENOENT");
    }
}
