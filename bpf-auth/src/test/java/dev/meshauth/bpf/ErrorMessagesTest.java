package dev.meshauth.bpf;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The words an operator reads for each common errno, per operation. */
class ErrorMessagesTest {

    @ParameterizedTest(name = "{0} {2} -> ...{3}")
    @CsvSource(delimiter = '|', value = {
        "BPF_MAP_CREATE | map m | 1 | EPERM (Operation not permitted): needs root or CAP_BPF",
        "BPF_OBJ_PIN | map m -> /x | 1 | needs root or CAP_BPF, and the path must be on a bpffs mount",
        "BPF_MAP_UPDATE_ELEM | map m | 1 | a map opened read-write (a read-only handle cannot change it)",
        "BPF_OBJ_GET | /sys/fs/bpf/x | 2 | ENOENT (No such file or directory): nothing is pinned at that path",
        "BPF_MAP_UPDATE_ELEM | map m | 7 | E2BIG (Argument list too long): the map is full (max_entries reached)",
        "BPF_MAP_CREATE | map m | 7 | non-zero bytes past the attributes it knows",
        "BPF_MAP_CREATE | map m | 22 | EINVAL (Invalid argument): the kernel rejected the arguments",
        "BPF_MAP_CREATE | map m | 12 | memory cgroup limit",
        "BPF_MAP_LOOKUP_BATCH | map m | 524 | ENOTSUPP (Operation not supported (kernel-internal ENOTSUPP)): this map type does not support",
    })
    void namesCommandObjectErrnoAndWhatToDo(String op, String object, int errno, String expected) {
        BpfException e = BpfException.syscall(op, object, errno);
        assertThat(e.getMessage()).startsWith(op + " on " + object + ": ").contains(expected);
        assertThat(e.errno()).hasValue(errno);
        assertThat(e.operation()).isEqualTo(op);
        assertThat(e.object()).isEqualTo(object);
    }

    @Test
    void unknownErrnoIsShownAsANumber() {
        assertThat(BpfException.syscall("BPF_MAP_CREATE", "map m", 4095).getMessage())
                .isEqualTo("BPF_MAP_CREATE on map m: errno 4095");
    }

    @Test
    void kernelLogGoesOnItsOwnLines() {
        assertThat(BpfException.syscall("BPF_BTF_LOAD", "BTF for map m", 22, "kernel BTF log:\nbad magic\n").getMessage())
                .endsWith("wrong size)\nkernel BTF log:\nbad magic");
    }
}
