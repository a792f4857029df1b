package dev.meshauth.bpf.map;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A map the kernel created but whose info cannot be read is closed again: no descriptor stays. */
@KernelTest
class BpfMapCreateFailureKernelTest {
    private static long mapDescriptors() throws IOException {
        long n = 0;
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    if (Files.readSymbolicLink(fd).toString().equals("anon_inode:bpf-map")) {
                        n++;
                    }
                } catch (IOException e) {
                    // closed while listing
                }
            }
        }
        return n;
    }

    @Test
    void aFailureReadingTheNewMapsInfoClosesItsDescriptor() throws Exception {
        long before = mapDescriptors();
        MapSpec spec = MapSpec.of("info_fail", MapType.HASH, 4, 8, 16, MapFlags.NO_PREALLOC);
        long[] during = new long[1];
        assertThatThrownBy(() -> BpfMap.create(spec, (fd, object) -> {
            try {
                during[0] = mapDescriptors();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            throw BpfException.of("BPF_OBJ_GET_INFO_BY_FD", object, "injected failure");
        })).isInstanceOf(BpfException.class).hasMessageContaining("injected failure");
        assertThat(during[0]).as("the map was created").isEqualTo(before + 1);
        assertThat(mapDescriptors()).isEqualTo(before);
    }
}
